#!/usr/bin/env node
// Peer benchmark: Turso's AgentFS TypeScript SDK (npm `agentfs-sdk`).
//
// Workload (per run, fresh store in a fresh temp dir):
//   write phase: create D directories through the SDK (fs.mkdir), then write
//                N files of S bytes (distinct deterministic content per file)
//                with fs.writeFile, spread as evenly as possible over the dirs.
//   read phase:  fs.readFile every file back, in write order, and verify it
//                byte-for-byte against the expected content.
// Each phase is timed with performance.now(). All calls are awaited one at a
// time (no concurrency), on one AgentFS instance, in one process.
//
// Output: one JSON line per run, then one JSON summary line with medians.
//
// Usage: node bench.mjs [--files N] [--runs R] [--dir PARENT_DIR]
//                       [--size BYTES] [--dirs NDIRS] [--keep]

import { AgentFS } from 'agentfs-sdk';
import { mkdtempSync, mkdirSync, readFileSync, readdirSync, statSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

function parseArgs(argv) {
  const opts = { files: 10000, runs: 5, dir: tmpdir(), size: 4096, dirs: 100, keep: false };
  const intOpt = (name, v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} expects a positive integer, got ${JSON.stringify(v)}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const val = () => (inline !== undefined ? inline : argv[++i]);
    switch (flag) {
      case '--files': opts.files = intOpt('files', val()); break;
      case '--runs': opts.runs = intOpt('runs', val()); break;
      case '--size': opts.size = intOpt('size', val()); break;
      case '--dirs': opts.dirs = intOpt('dirs', val()); break;
      case '--dir': opts.dir = val(); if (!opts.dir) throw new Error('--dir expects a path'); break;
      case '--keep': opts.keep = true; break;
      case '-h': case '--help':
        console.log('usage: node bench.mjs [--files N] [--runs R] [--dir PARENT_DIR] [--size BYTES] [--dirs NDIRS] [--keep]');
        process.exit(0);
      default: throw new Error(`unknown argument: ${a}`);
    }
  }
  opts.dirs = Math.min(opts.dirs, opts.files);
  return opts;
}

// Deterministic, distinct content per file: xorshift32 stream seeded by index.
function fileContent(index, size) {
  const buf = Buffer.allocUnsafe(size);
  let x = (Math.imul(index + 1, 0x9e3779b1) ^ 0xdeadbeef) >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    buf[i] = x & 0xff;
  }
  // Stamp the index into the first bytes so contents are guaranteed distinct.
  if (size >= 4) buf.writeUInt32LE(index >>> 0, 0);
  return buf;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function dirSize(d) {
  let total = 0;
  for (const f of readdirSync(d)) total += statSync(join(d, f)).size;
  return total;
}

function pkgVersion(name) {
  const require = createRequire(import.meta.url);
  const here = dirname(fileURLToPath(import.meta.url));
  try {
    return JSON.parse(readFileSync(join(here, 'node_modules', name, 'package.json'), 'utf8')).version;
  } catch {
    try { return require(`${name}/package.json`).version; } catch { return null; }
  }
}

async function oneRun(run, opts, contents, dirNames, paths) {
  mkdirSync(opts.dir, { recursive: true });
  const tmp = mkdtempSync(join(opts.dir, 'agentfs-sdk-bench-'));
  const dbPath = join(tmp, 'store.db');
  const agent = await AgentFS.open({ path: dbPath });
  const fs = agent.fs;
  let closed = false;
  try {
    // ---- write phase (mkdir + writeFile) ----
    const t0 = performance.now();
    for (const d of dirNames) await fs.mkdir(d);
    const tMk = performance.now();
    for (let i = 0; i < paths.length; i++) await fs.writeFile(paths[i], contents[i]);
    const t1 = performance.now();

    // ---- read phase (readFile + byte-for-byte verify) ----
    let bytesRead = 0;
    const t2 = performance.now();
    for (let i = 0; i < paths.length; i++) {
      const got = await fs.readFile(paths[i]);
      if (got.length !== contents[i].length || !contents[i].equals(got)) {
        throw new Error(`verification failed for ${paths[i]}: got ${got.length} bytes, expected ${contents[i].length}`);
      }
      bytesRead += got.length;
    }
    const t3 = performance.now();

    await agent.close();
    closed = true;
    const storeBytes = dirSize(tmp);

    const writeMs = t1 - t0;
    const readMs = t3 - t2;
    return {
      peer: 'agentfs-sdk',
      run,
      files: paths.length,
      size: opts.size,
      dirs: dirNames.length,
      mkdir_ms: +(tMk - t0).toFixed(3),
      write_ms: +writeMs.toFixed(3),
      read_ms: +readMs.toFixed(3),
      write_files_per_s: +(paths.length / (writeMs / 1000)).toFixed(1),
      read_files_per_s: +(paths.length / (readMs / 1000)).toFixed(1),
      bytes_verified: bytesRead,
      store_bytes_on_disk: storeBytes,
    };
  } finally {
    if (!closed) { try { await agent.close(); } catch { /* ignore */ } }
    if (!opts.keep) rmSync(tmp, { recursive: true, force: true });
  }
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const version = pkgVersion('agentfs-sdk');
  const backendVersion = pkgVersion('@tursodatabase/database');

  // Precompute names and contents outside the timed sections.
  const dirNames = Array.from({ length: opts.dirs }, (_, d) => `/d${String(d).padStart(3, '0')}`);
  const paths = Array.from({ length: opts.files }, (_, i) => `${dirNames[i % opts.dirs]}/f${String(i).padStart(5, '0')}.bin`);
  const contents = Array.from({ length: opts.files }, (_, i) => fileContent(i, opts.size));

  const results = [];
  for (let r = 1; r <= opts.runs; r++) {
    const res = await oneRun(r, opts, contents, dirNames, paths);
    results.push(res);
    console.log(JSON.stringify(res));
  }

  console.log(JSON.stringify({
    peer: 'agentfs-sdk',
    version,
    backend: `@tursodatabase/database@${backendVersion}`,
    node: process.version,
    files: opts.files,
    size: opts.size,
    dirs: dirNames.length,
    runs: opts.runs,
    write_files_per_s: +median(results.map(r => r.write_files_per_s)).toFixed(1),
    read_files_per_s: +median(results.map(r => r.read_files_per_s)).toFixed(1),
    write_ms_median: +median(results.map(r => r.write_ms)).toFixed(3),
    read_ms_median: +median(results.map(r => r.read_ms)).toFixed(3),
  }));
}

main().catch((e) => { console.error(e?.stack ?? e); process.exit(1); });
