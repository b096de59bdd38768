/**
 * The `ext` transport: `command=` is run and the connection is its stdin and
 * stdout. Like the reference client, the value is the program itself (looked
 * up in PATH when it has no slash) and gets no arguments and no shell: a
 * command line with spaces needs a wrapper script. It runs with LC_ALL=C and
 * only the common variables of the environment (PATH, HOME, USER, LOGNAME,
 * TMPDIR, the dynamic loader's).
 */

import { duplexChannel } from '../channel.js';
import { childEnv, spawnDuplex } from './child.js';
import { TransportError } from './errors.js';
import type { ChannelTransport } from './types.js';

export const extTransport: ChannelTransport = async (uri, opts) => {
  const command = uri.params.command;
  if (command === undefined || command === '') {
    throw new TransportError('the ext transport needs a command= parameter');
  }
  const child = await spawnDuplex(command, [], {
    env: childEnv(opts.env ?? process.env),
    program: `command ${command}`,
    signal: opts.signal,
  });
  return duplexChannel(child);
};
