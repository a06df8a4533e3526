// Where the bytes of a SQLite database go, read from its files: what `PRAGMA page_count`,
// `PRAGMA freelist_count` and the `dbstat` virtual table would say, for a database where none of
// them is available. D1 (and Miniflare's local D1) refuses PRAGMAs (SQLITE_AUTH) and has no
// `dbstat`, so the d1-size group (scale.mjs) reads the database file that Miniflare persists,
// together with its write-ahead log, read-only, while nothing writes to it.
//
// Pages are taken from the main file, replaced by their newest committed copy in the WAL (frames
// whose salts match the WAL header and whose running checksum holds, up to the last commit frame,
// as SQLite itself reads them). Then every b-tree named in sqlite_schema is walked from its root
// page — interior and leaf pages and the overflow chains of large cells — and its pages counted.
// The rest of the file is the freelist, pointer-map pages (auto_vacuum) and the lock-byte page;
// the sum must equal the page count, which is checked.
import { existsSync, readFileSync } from "node:fs";

/**
 * @param {string} path the database file (its `-wal` beside it, if any)
 * @returns {{ pageSize: number, pageCount: number, freelistCount: number, ptrmapPages: number,
 *   lockBytePage: number, walFrames: number, objects: { name: string, type: string, table: string,
 *   pages: number, overflowPages: number, cells: number }[] }}
 */
export function sqlitePages(path) {
  const pages = new PageSource(path);
  const header = pages.get(1);
  if (header.toString("latin1", 0, 15) !== "SQLite format 3")
    throw new Error(`${path}: not a SQLite database`);
  const pageSize = pages.pageSize;
  const usable = pageSize - header[20];
  const pageCount = pages.pageCount;
  const freelistCount = header.readUInt32BE(36);
  const autoVacuum = header.readUInt32BE(52) !== 0;

  const seen = new Uint8Array(pageCount + 1);
  const claim = (n, what) => {
    if (n < 1 || n > pageCount)
      throw new Error(`${what}: page ${n} outside the database (${pageCount} pages)`);
    if (seen[n]) throw new Error(`${what}: page ${n} reached twice`);
    seen[n] = 1;
  };

  /** Every page of the b-tree rooted at `root`: b-tree pages, overflow pages, cells on leaves. */
  const walk = (root, what, onLeafRecord) => {
    const stats = { pages: 0, overflowPages: 0, cells: 0 };
    const stack = [root];
    while (stack.length) {
      const n = stack.pop();
      claim(n, what);
      stats.pages++;
      const page = pages.get(n);
      const at = n === 1 ? 100 : 0;
      const type = page[at];
      const interior = type === 0x02 || type === 0x05;
      const cellCount = page.readUInt16BE(at + 3);
      const pointers = at + (interior ? 12 : 8);
      if (interior) stack.push(page.readUInt32BE(at + 8));
      else if (type !== 0x0a && type !== 0x0d) throw new Error(`${what}: page ${n} has b-tree type ${type}`);
      for (let i = 0; i < cellCount; i++) {
        let p = page.readUInt16BE(pointers + 2 * i);
        if (interior) {
          stack.push(page.readUInt32BE(p));
          p += 4;
          if (type === 0x05) continue; // interior table cell: child and rowid, no payload
        }
        const [size, afterSize] = varint(page, p);
        p = afterSize;
        if (type === 0x0d) p = varint(page, p)[1]; // the rowid
        if (!interior) stats.cells++;
        const table = type === 0x0d;
        const maxLocal = table ? usable - 35 : Math.floor(((usable - 12) * 64) / 255) - 23;
        const minLocal = Math.floor(((usable - 12) * 32) / 255) - 23;
        let local = size;
        if (size > maxLocal) {
          const k = minLocal + ((size - minLocal) % (usable - 4));
          local = k <= maxLocal ? k : minLocal;
        }
        const chunks = [page.subarray(p, p + local)];
        if (local < size) {
          // The overflow chain: each page a 4-byte next pointer and usable - 4 bytes of payload.
          let next = page.readUInt32BE(p + local);
          let left = size - local;
          while (next) {
            claim(next, `${what} overflow`);
            stats.overflowPages++;
            const o = pages.get(next);
            const take = Math.min(left, usable - 4);
            if (onLeafRecord) chunks.push(o.subarray(4, 4 + take));
            left -= take;
            next = o.readUInt32BE(0);
          }
        }
        if (onLeafRecord && !interior) onLeafRecord(Buffer.concat(chunks));
      }
    }
    return stats;
  };

  // sqlite_schema (page 1) names every other b-tree and its root page.
  const schema = [];
  const schemaStats = walk(1, "sqlite_schema", (record) => {
    const [type, name, table, rootpage] = decodeRecord(record);
    schema.push({ type, name, table, rootpage });
  });
  const objects = [{ name: "sqlite_schema", type: "table", table: "sqlite_schema", ...schemaStats }];
  for (const s of schema) {
    if (!s.rootpage) continue; // views, triggers, virtual tables
    objects.push({ name: s.name, type: s.type, table: s.table, ...walk(Number(s.rootpage), s.name) });
  }

  // The freelist: trunk pages, each listing leaf pages.
  let freelistPages = 0;
  for (let trunk = header.readUInt32BE(32); trunk; ) {
    claim(trunk, "freelist trunk");
    freelistPages++;
    const t = pages.get(trunk);
    const leaves = t.readUInt32BE(4);
    for (let i = 0; i < leaves; i++) {
      claim(t.readUInt32BE(8 + 4 * i), "freelist leaf");
      freelistPages++;
    }
    trunk = t.readUInt32BE(0);
  }
  if (freelistPages !== freelistCount)
    throw new Error(`freelist: the header says ${freelistCount} pages, its trunks list ${freelistPages}`);

  // What no b-tree and no freelist holds: pointer-map pages and the lock-byte page (at 1 GiB).
  const lockBytePage = Math.floor(1_073_741_824 / pageSize) + 1;
  let ptrmapPages = 0;
  let lockByte = 0;
  for (let n = 1; n <= pageCount; n++) {
    if (seen[n]) continue;
    if (n === lockBytePage) lockByte = 1;
    else if (autoVacuum) ptrmapPages++;
    else throw new Error(`page ${n} belongs to no b-tree, the freelist or a pointer map`);
  }
  return {
    pageSize,
    pageCount,
    freelistCount,
    ptrmapPages,
    lockBytePage: lockByte,
    walFrames: pages.walFrames,
    objects,
  };
}

/** Pages of the main file, overlaid with the newest committed copy of each in the WAL. */
class PageSource {
  constructor(path) {
    this.main = readFileSync(path);
    const walPath = `${path}-wal`;
    const wal = existsSync(walPath) ? readFileSync(walPath) : Buffer.alloc(0);
    this.wal = new Map();
    this.walFrames = 0;
    if (this.main.length >= 100) {
      const raw = this.main.readUInt16BE(16);
      this.pageSize = raw === 1 ? 65_536 : raw;
      this.pageCount = this.main.readUInt32BE(28);
      // A header count not written by the last writer of the file (an old SQLite) is not trusted.
      if (this.main.readUInt32BE(24) !== this.main.readUInt32BE(92) || !this.pageCount)
        this.pageCount = Math.floor(this.main.length / this.pageSize);
    } else {
      // Nothing checkpointed yet: the WAL holds every page.
      this.pageSize = wal.length >= 32 ? wal.readUInt32BE(8) : 0;
      this.pageCount = 0;
    }
    this.readWal(wal);
    if (!this.pageSize || !this.pageCount) throw new Error(`${path}: an empty database`);
  }

  readWal(wal) {
    if (wal.length < 32) return;
    const magic = wal.readUInt32BE(0);
    if (magic !== 0x377f0682 && magic !== 0x377f0683) return;
    const bigEndian = magic === 0x377f0683;
    const pageSize = wal.readUInt32BE(8);
    if (pageSize !== this.pageSize) throw new Error(`WAL page size ${pageSize}, database ${this.pageSize}`);
    const salt1 = wal.readUInt32BE(16);
    const salt2 = wal.readUInt32BE(20);
    let [s0, s1] = walChecksum(wal, 0, 24, 0, 0, bigEndian);
    if (s0 !== wal.readUInt32BE(24) || s1 !== wal.readUInt32BE(28)) return;
    const frameSize = 24 + pageSize;
    const pending = new Map();
    for (let at = 32; at + frameSize <= wal.length; at += frameSize) {
      if (wal.readUInt32BE(at + 8) !== salt1 || wal.readUInt32BE(at + 12) !== salt2) break;
      [s0, s1] = walChecksum(wal, at, 8, s0, s1, bigEndian);
      [s0, s1] = walChecksum(wal, at + 24, pageSize, s0, s1, bigEndian);
      if (s0 !== wal.readUInt32BE(at + 16) || s1 !== wal.readUInt32BE(at + 20)) break;
      pending.set(wal.readUInt32BE(at), wal.subarray(at + 24, at + frameSize));
      const commitSize = wal.readUInt32BE(at + 4);
      if (commitSize) {
        // A commit frame: everything since the last one is committed, and the database has this many pages.
        for (const [n, page] of pending) this.wal.set(n, page);
        pending.clear();
        this.pageCount = commitSize;
        this.walFrames = (at - 32) / frameSize + 1;
      }
    }
  }

  get(n) {
    const fromWal = this.wal.get(n);
    if (fromWal) return fromWal;
    const start = (n - 1) * this.pageSize;
    if (start + this.pageSize > this.main.length) throw new Error(`page ${n} is beyond the file`);
    return this.main.subarray(start, start + this.pageSize);
  }
}

/** SQLite's WAL checksum over `length` bytes at `at` (a multiple of 8), continuing from s0, s1. */
function walChecksum(buf, at, length, s0, s1, bigEndian) {
  for (let i = at; i < at + length; i += 8) {
    const a = bigEndian ? buf.readUInt32BE(i) : buf.readUInt32LE(i);
    const b = bigEndian ? buf.readUInt32BE(i + 4) : buf.readUInt32LE(i + 4);
    s0 = (s0 + a + s1) >>> 0;
    s1 = (s1 + b + s0) >>> 0;
  }
  return [s0, s1];
}

/** A SQLite varint at `at`: [value, offset after it]. Values here fit a double. */
function varint(buf, at) {
  let value = 0;
  for (let i = 0; i < 8; i++) {
    const byte = buf[at + i];
    value = value * 128 + (byte & 0x7f);
    if (byte < 0x80) return [value, at + i + 1];
  }
  return [value * 256 + buf[at + 8], at + 9];
}

/** The values of a record (only what sqlite_schema holds: text, integers, NULL). */
function decodeRecord(record) {
  const [headerSize, first] = varint(record, 0);
  const types = [];
  for (let p = first; p < headerSize; ) {
    const [t, next] = varint(record, p);
    types.push(t);
    p = next;
  }
  const values = [];
  let p = headerSize;
  for (const t of types) {
    if (t === 0) values.push(null);
    else if (t >= 1 && t <= 6) {
      const size = [0, 1, 2, 3, 4, 6, 8][t];
      let v = 0;
      for (let i = 0; i < size; i++) v = v * 256 + record[p + i];
      values.push(v);
      p += size;
    } else if (t === 7) {
      values.push(record.readDoubleBE(p));
      p += 8;
    } else if (t === 8 || t === 9) values.push(t - 8);
    else {
      const size = Math.floor((t - 12) / 2);
      values.push(t % 2 ? record.toString("utf8", p, p + size) : record.subarray(p, p + size));
      p += size;
    }
  }
  return values;
}
