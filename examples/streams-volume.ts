// docs/events-and-streams.md: data streams: a volume up and down (sparse),
// a ranged download, a screenshot. The simulator has no storage and no screen.
// runs on: hosts
import { open } from 'node:fs/promises';
import {
  connect,
  domainScreenshot,
  volumeDownload,
  volumeDownloadFile,
  volumeUploadFile,
} from 'virtwire';

const uri = process.env['VIRTWIRE_URI'] ?? 'qemu:///system';
const name = process.env['VIRTWIRE_DOMAIN'] ?? 'vm1';
const volumePath = process.env['VIRTWIRE_VOLUME'] ?? '/var/lib/libvirt/images/disk.raw';

// a 4 MiB file that is mostly a hole, with data at both ends
const file = await open('./disk.raw', 'w');
await file.write(Buffer.alloc(4096, 1), 0, 4096, 0);
await file.write(Buffer.alloc(4096, 2), 0, 4096, 4 * 1024 * 1024 - 4096);
await file.close();

await using conn = await connect(uri);
const dom = await conn.lookupDomain(name);
const { vol } = await conn.remote.storageVolLookupByPath({ path: volumePath });
await volumeUploadFile(conn, vol, './disk.raw'); // sparse: zero pages travel as holes
await volumeDownloadFile(conn, vol, './copy.raw'); // holes stay holes in the file

const stream = await volumeDownload(conn, vol, { offset: 0, length: 1 << 20 });
for await (const chunk of stream) process.stdout.write(`${chunk.length} bytes\n`); // ends after the daemon confirms

const { mime, data } = await domainScreenshot(dom, 0); // e.g. image/png
console.log(mime, data.length);
