// docs/connections.md: in-process SSH (the optional ssh2 peer dependency):
// a password, and the passphrase of an encrypted key, from the auth option.
// runs on: hosts
import { connect } from 'virtwire';

const env = process.env;
const passwordUri =
  env['VIRTWIRE_SSH_PASSWORD_URI'] ?? 'qemu+libssh2://admin@host/system?sshauth=password';
const keyUri =
  env['VIRTWIRE_SSH_KEY_URI'] ?? 'qemu+libssh://root@host/system?keyfile=/root/.ssh/id_ed25519';
const secret = env['VIRTWIRE_SSH_PASSWORD'] ?? '';
const keyPassphrase = env['VIRTWIRE_SSH_KEY_PASSPHRASE'] ?? '';

const byPassword = await connect(passwordUri, {
  auth: { username: 'admin', password: secret },
});
const byKey = await connect(keyUri, {
  auth: async (creds) => creds.map(() => keyPassphrase), // "Enter the passphrase for key ..."
});
console.log(byPassword.uri, byKey.uri);
await byPassword.close();
await byKey.close();
