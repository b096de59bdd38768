// docs/tracing.md: timing every call through the virtwire:rpc:call tracing
// channel, as an APM agent would.
// runs on: simulator, hosts
import { tracingChannel } from 'node:diagnostics_channel';
import { connect, type RpcCallMessage } from 'virtwire';

const uri = process.env['VIRTWIRE_URI'] ?? 'qemu:///system';

const started = new WeakMap<RpcCallMessage, number>();
tracingChannel<unknown, RpcCallMessage>('virtwire:rpc:call').subscribe({
  start: (c) => started.set(c, performance.now()),
  end: () => {},
  asyncStart: () => {},
  asyncEnd: (c) => {
    const ms = performance.now() - (started.get(c) ?? 0);
    console.log(
      `${c.program}.${c.procedure} #${c.serial} ${c.status ?? 'failed'} ${ms.toFixed(1)} ms`,
    );
  },
  error: () => {},
});

await using conn = await connect(uri);
await conn.remote.connectGetLibVersion(); // remote.CONNECT_GET_LIB_VERSION #5 ok 0.4 ms
