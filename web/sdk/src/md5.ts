// MD5 (RFC 1321) for the Content-MD5 header of multipart upload parts
// (docs/protocol.md, step 8): Web Crypto has no MD5, and the core uses no
// Node API. Not for security; it only lets the store refuse a part that
// did not arrive whole.

const S = [
  7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
  5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20,
  4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
  6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
];
const K = new Int32Array(64);
for (let i = 0; i < 64; i++) K[i] = Math.floor(Math.abs(Math.sin(i + 1)) * 2 ** 32) | 0;

/** md5 returns the 16-byte MD5 digest of data. */
export function md5(data: Uint8Array): Uint8Array {
  const n = data.length;
  // Padding: 0x80, zeros to 56 mod 64, then the bit length (little endian).
  const total = ((n + 8) >>> 6) * 64 + 64;
  const tail = new Uint8Array(total - (n & ~63));
  tail.set(data.subarray(n & ~63));
  tail[n & 63] = 0x80;
  const bits = n * 8;
  const tv = new DataView(tail.buffer);
  tv.setUint32(tail.length - 8, bits >>> 0, true);
  tv.setUint32(tail.length - 4, Math.floor(bits / 2 ** 32), true);

  let a0 = 0x67452301, b0 = 0xefcdab89 | 0, c0 = 0x98badcfe | 0, d0 = 0x10325476;
  const M = new Int32Array(16);
  const full = n & ~63;
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const block = (view: DataView, off: number) => {
    for (let i = 0; i < 16; i++) M[i] = view.getInt32(off + i * 4, true);
    let a = a0, b = b0, c = c0, d = d0;
    for (let i = 0; i < 64; i++) {
      let f: number, g: number;
      if (i < 16) {
        f = (b & c) | (~b & d);
        g = i;
      } else if (i < 32) {
        f = (d & b) | (~d & c);
        g = (5 * i + 1) & 15;
      } else if (i < 48) {
        f = b ^ c ^ d;
        g = (3 * i + 5) & 15;
      } else {
        f = c ^ (b | ~d);
        g = (7 * i) & 15;
      }
      const t = (a + f + K[i] + M[g]) | 0;
      a = d;
      d = c;
      c = b;
      b = (b + ((t << S[i]) | (t >>> (32 - S[i])))) | 0;
    }
    a0 = (a0 + a) | 0;
    b0 = (b0 + b) | 0;
    c0 = (c0 + c) | 0;
    d0 = (d0 + d) | 0;
  };
  for (let off = 0; off < full; off += 64) block(dv, off);
  for (let off = 0; off < tail.length; off += 64) block(tv, off);
  const out = new Uint8Array(16);
  const ov = new DataView(out.buffer);
  ov.setInt32(0, a0, true);
  ov.setInt32(4, b0, true);
  ov.setInt32(8, c0, true);
  ov.setInt32(12, d0, true);
  return out;
}

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** base64 encodes bytes (standard alphabet, padded). */
export function base64(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i += 3) {
    const x = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    out += B64[(x >>> 18) & 63] + B64[(x >>> 12) & 63];
    out += i + 1 < bytes.length ? B64[(x >>> 6) & 63] : "=";
    out += i + 2 < bytes.length ? B64[x & 63] : "=";
  }
  return out;
}

/** contentMD5 is the Content-MD5 header value of data: base64 of its MD5. */
export function contentMD5(data: Uint8Array): string {
  return base64(md5(data));
}
