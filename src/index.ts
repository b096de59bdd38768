/**
 * virtwire: a pure-TypeScript client for libvirt's remote RPC protocol.
 *
 * ```ts
 * import { connect } from 'virtwire';
 * await using conn = await connect('qemu+tcp://host/system');
 * ```
 * The RPC tables (every procedure of every program) live in `virtwire/protocol`.
 */
export { AdminConnection, type AdminConnectOptions, connectAdmin } from './api/admin.js';
export {
  AuthError,
  Connection,
  type ConnectionFeatures,
  type ConnectOptions,
  connect,
  Feature,
} from './api/connection.js';
export { Domain, type DomainInfo, type DomainState } from './api/domain.js';
export {
  type ConnectionClosedEvent,
  type DomainEvent,
  type DomainRef,
  EventOverflowError,
  Events,
  type LifecycleNames,
  lifecycleNames,
  type NetworkEvent,
  type NodeDeviceEvent,
  type OverflowPolicy,
  type QemuMonitorEvent,
  type SecretEvent,
  type StoragePoolEvent,
  type SubscribeOptions,
  Subscription,
} from './api/events.js';
export {
  type JobStats,
  MIGRATE_PARAMS,
  MigrateFlags,
  type MigrateOptions,
  Migration,
  MigrationError,
  type MigrationEvent,
  type MigrationPhase,
  type MigrationProgress,
  type MigrationResult,
  PostcopyFailedError,
  type PostcopyPolicy,
  type PostcopySwitchTiming,
} from './api/migration.js';
export { type DomainStateName, formatUuid, parseUuid } from './api/names.js';
export {
  fromTypedParams,
  TypedParamError,
  type TypedValue,
  toTypedParams,
} from './api/typed-params.js';
export {
  type AuthCallback,
  type AuthOption,
  type CredentialRequest,
  CredentialType,
} from './auth/credentials.js';
export { CredentialsError } from './auth/errors.js';
export { VirtwireError } from './errors.js';
export type { CallOptions, CloseInfo } from './rpc/client.js';
export {
  AbortError,
  type CloseReason,
  ConnectionClosedError,
  type ErrorCodeName,
  hasErrorCode,
  isArgumentUnsupported,
  isAuthFailed,
  isInvalidArg,
  isMigrateUnsafe,
  isNoDomain,
  isNoNetwork,
  isNoStoragePool,
  isNoStorageVol,
  isNoSupport,
  isOperationAborted,
  isOperationFailed,
  isOperationInvalid,
  ProtocolError,
  RemoteError,
  TimeoutError,
} from './rpc/errors.js';
export type { MethodsOf } from './rpc/methods.js';
export { type Transport, TransportError, type TransportOptions } from './transport/index.js';
export { type LibvirtUri, parseUri, redactUri, UriError } from './uri/index.js';
export { type Codec, XdrError, XdrReader, XdrWriter } from './xdr/index.js';
export type { ProcedureInfo, ProgramInfo } from './xdr/program.js';
