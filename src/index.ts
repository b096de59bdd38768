/**
 * virtwire: a pure-TypeScript client for libvirt's remote RPC protocol.
 *
 * ```ts
 * import { connect } from 'virtwire';
 * await using conn = await connect('qemu+tcp://host/system');
 * ```
 * The RPC tables (every procedure of every program) live in `virtwire/protocol`.
 */
export {
  AdminClient,
  AdminConnection,
  type AdminConnectOptions,
  type AdminHandles,
  AdminServer,
  connectAdmin,
} from './api/admin.js';
export {
  type ConnectionLimits,
  type ConnectOptions,
  connect,
  DEFAULT_OPEN_TIMEOUT_MS,
} from './api/connect.js';
export {
  type ConnectionClosedEvent,
  type DomainEvent,
  type DomainRef,
  type EventGap,
  EventOverflowError,
  Events,
  isEventGap,
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
export { Feature } from './api/features.js';
export {
  type AnyConnection,
  Connection,
  type ConnectionFeatures,
  Domain,
  DomainCheckpoint,
  DomainSnapshot,
  type Handles,
  Interface,
  Network,
  NetworkPort,
  NodeDevice,
  NWFilter,
  NWFilterBinding,
  Secret,
  StoragePool,
  StorageVol,
  type SupervisedConnection,
} from './api/handles.js';
export {
  type AbortRecord,
  brokenMigrateRule,
  type ChartSource,
  describeMigrateRule,
  type EndRecord,
  type EventRecord,
  type FinalStats,
  type JobStats,
  type LinkLoss,
  MIGRATE_PARAMS,
  MIGRATE_RULES,
  type MigrateFlagName,
  MigrateFlags,
  type MigrateOptions,
  type MigrateRule,
  MigrateRuleError,
  Migration,
  type MigrationConnection,
  type MigrationDomain,
  MigrationError,
  type MigrationEvent,
  MigrationInterruptedError,
  type MigrationOutcome,
  type MigrationPhase,
  MigrationPlan,
  type MigrationProgress,
  type MigrationProtocolChoice,
  type MigrationResult,
  type MigrationSummary,
  MigrationTimeline,
  type NoteRecord,
  PostcopyFailedError,
  type PostcopyPolicy,
  PostcopyResumeLostError,
  type PostcopySwitchTiming,
  type PostcopyTriggers,
  type ProgressRecord,
  type SampleFigures,
  type SideState,
  type StepRecord,
  type SwitchRecord,
  summarize,
  summaryHead,
  summaryRows,
  switchText,
  TimelineFormatError,
  type TimelineJson,
  type TimelineMeta,
  type TimelineRecord,
  timelineFromJson,
  timelineFromRecords,
  timelineHtml,
  timelineSvg,
} from './api/migration/index.js';
export { type DomainState, type DomainStateName, formatUuid, parseUuid } from './api/names.js';
export {
  DEFAULT_HIGH_WATER_MARK,
  domainOpenChannel,
  domainOpenConsole,
  domainScreenshot,
  type FileTransferOptions,
  HOLE_PAGE,
  type HolePolicy,
  type OpenStreamOptions,
  openStream,
  type Screenshot,
  STREAM_CHUNK_MAX,
  type StreamChunk,
  type StreamConnection,
  type StreamDataOptions,
  type StreamDomain,
  type StreamReadOptions,
  type StreamVolume,
  streamFromFile,
  streamToFile,
  VirStream,
  type VirStreamOptions,
  type VolumeTransferOptions,
  volumeDownload,
  volumeDownloadFile,
  volumeUpload,
  volumeUploadFile,
} from './api/streams.js';
export type {
  ConnectionState,
  ReconnectOptions,
  StateChange,
} from './api/supervise.js';
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
export { AuthError, CredentialsError } from './auth/errors.js';
export { SaslError } from './auth/sasl/errors.js';
export {
  type Channel,
  type ChannelSink,
  DuplexChannel,
  duplexChannel,
  isChannel,
  toChannel,
} from './channel.js';
export {
  CHANNELS,
  type ConnectionCloseMessage,
  type ConnectionOpenMessage,
  type ConnectionStateMessage,
  type Direction,
  type MigrationPhaseMessage,
  type RpcCallMessage,
  type RpcWireMessage,
  type StreamCloseMessage,
  type StreamOpenMessage,
} from './diagnostics.js';
export { AbortError, InvalidArgumentError, TimeoutError, VirtwireError } from './errors.js';
/** libvirt's constants: every enum as an object (`VirDomainModificationImpact.VIR_DOMAIN_AFFECT_LIVE`), every `VIR_*` value. */
export * from './generated/api.js';
export type {
  AdminHandleFactory,
  ClientInfoParams,
  ConnectIdentityParams,
  DomainBandwidthParams,
  DomainBlkioParams,
  DomainBlockCopyParams,
  DomainBlockIotuneParams,
  DomainBlockStatsParams,
  DomainCpuStatsParams,
  DomainGuestInfoParams,
  DomainIothreadParams,
  DomainJobParams,
  DomainLaunchSecurityParams,
  DomainMemoryParams,
  DomainNumaParams,
  DomainSaveParams,
  DomainSchedulerParams,
  DomainStatsParams,
  HandleFactory,
  NetworkPortBandwidthParams,
  NodeMemorySharedParams,
  NodeSevParams,
  ParamsIn,
  PerfParams,
  ServerClientsParams,
  ThreadpoolParams,
  TypedParams,
} from './generated/handles.js';
export type { CallOptions, CloseInfo } from './rpc/client.js';
export { callDescriptor, findProcedure } from './rpc/descriptor.js';
export {
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
  NotLibvirtError,
  ProtocolError,
  RemoteError,
} from './rpc/errors.js';
export type { MethodsOf } from './rpc/methods.js';
export { StreamHoleError, StreamStateError } from './rpc/stream.js';
export {
  type ChannelTransport,
  ChildExitError,
  SshAuthError,
  SshHostKeyError,
  type TlsFailure,
  TlsVerificationError,
  type Transport,
  TransportError,
  type TransportOptions,
} from './transport/index.js';
export { type LibvirtUri, parseUri, redactUri, type TransportName, UriError } from './uri/index.js';
export { type Codec, XdrError, XdrReader, XdrWriter } from './xdr/index.js';
export type { CallDescriptor, ProcedureInfo, ProgramId, ProgramInfo } from './xdr/program.js';
