// docs/events-and-streams.md: data streams: a volume up and down (sparse),
// a ranged download and upload, a screenshot, a console. The simulator has no
// storage and no screen.
// runs on: hosts
import { open } from 'node:fs/promises';
import { connect, domainScreenshot, volumeDownloadFile, volumeUploadFile } from 'virtwire';

const uri = process.env['VIRTWIRE_URI'] ?? 'qemu:///system';
const name = process.env['VIRTWIRE_DOMAIN'] ?? 'vm1';

// a 4 MiB file that is mostly a hole, with data at both ends
const file = await open('./disk.raw', 'w');
await file.write(Buffer.alloc(4096, 1), 0, 4096, 0);
await file.write(Buffer.alloc(4096, 2), 0, 4096, 4 * 1024 * 1024 - 4096);
await file.close();
const bytes = new Uint8Array(4096).fill(3);

await using conn = await connect(uri);
const dom = await conn.lookupDomain(name);

const vol = await conn.storageVolLookupByPath(
  process.env['VIRTWIRE_VOLUME'] ?? '/var/lib/libvirt/images/disk.raw',
);
await volumeUploadFile(conn, vol, './disk.raw'); // sparse: zero pages travel as holes
await volumeDownloadFile(conn, vol, './copy.raw'); // holes stay holes in the file

const stream = await vol.download(0, 1 << 20); // virStorageVolDownload: a VirStream
for await (const chunk of stream) process.stdout.write(chunk); // ends after the daemon confirms

const up = await vol.upload(0, 0);
await up.write(bytes);
await up.finish(); // the upload counts once finish resolves

const { stream: image, mime } = await dom.screenshot(0); // e.g. image/png
await image.abort(); // this example reads the image whole below
const { data } = await domainScreenshot(dom, 0); // the same, read whole
console.log(mime, data.length);
const console_ = await dom.openConsole(null); // duplex: read the guest's output, write its input
await console_.abort();
