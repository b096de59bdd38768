export {
  type DigestCipher,
  DigestLayer,
  DigestMd5Mechanism,
  type DigestQop,
} from './digest-md5.js';
export { SaslError } from './errors.js';
export { LayerFramer, SecurityLayerChannel } from './layer.js';
export type { SaslCredentials, SaslMechanism, SecurityLayer } from './mechanism.js';
export { PlainMechanism } from './plain.js';
export { Rc4 } from './rc4.js';
export { ScramMechanism } from './scram.js';
export {
  chooseMechanism,
  createMechanism,
  MIN_SSF_INSECURE,
  runSasl,
  type SaslCalls,
  SUPPORTED_MECHANISMS,
  type SupportedMechanism,
} from './session.js';
