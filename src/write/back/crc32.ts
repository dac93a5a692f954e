import * as zlib from 'node:zlib';

/** The reflected CRC-32 polynomial of zlib, PNG and Ethernet. */
const POLYNOMIAL = 0xedb88320;

let table: Int32Array | undefined;

function makeTable(): Int32Array {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? POLYNOMIAL ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
}

/**
 * CRC-32 (the zlib/PNG one) in JavaScript, one table lookup per byte. Used where `zlib.crc32` is
 * missing (Node before 20.15 and 22.2); both give the same value, so journals move freely between them.
 */
export function crc32Table(data: Uint8Array, value = 0): number {
  const t = (table ??= makeTable());
  let crc = ~value;
  for (let i = 0; i < data.length; i++) crc = t[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ -1) >>> 0;
}

const native = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

/**
 * CRC-32 of `data`: zlib's native implementation when Node has it, else {@link crc32Table}. `value` is
 * the CRC of the bytes before `data`, to checksum a record kept in two buffers.
 */
export const crc32: (data: Uint8Array, value?: number) => number = native ? (data, value = 0) => native(data, value) : crc32Table;
