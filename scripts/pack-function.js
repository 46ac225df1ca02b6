#!/usr/bin/env node
// `npm run pack:function [-- --out FILE]`: the Cloud Functions source archive, and nothing else.
//
// The archive holds package.json, package-lock.json (the buildpack runs `npm ci` on them) and
// build/, the product compiled fresh by tsconfig.build.json (functions/, shared/, cli/) into a
// staging folder: a stale build/ in the working tree, or one with tooling in it, can never leak
// into a deploy. package.json `main` is build/functions/index.js, so the archive must keep the
// build/ prefix: `python3 -m zipfile -c` stores a directory argument under its base name, so it
// is given `build` whole from inside the staging folder (listing build/functions and build/shared
// separately dropped the prefix once: commits b485396, 52cb381).
//
// cloudbuild.yaml, docs/deploy.md and test/integration/deploy/archive.test.ts all use this script.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { parseArgs } = require('node:util');

const ROOT = path.resolve(__dirname, '..');
const ENTRY = 'build/functions/index.js';
/** Every entry of the archive is one of these files or lies under one of these folders. */
const ALLOWED = [
  'package.json',
  'package-lock.json',
  'build/functions/',
  'build/shared/',
  'build/cli/',
];

function run(cmd, args, cwd) {
  const r = spawnSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${r.status}`);
  return r.stdout;
}

/** The archive's entries (files only), read back with the same zipfile module that wrote it. */
function listEntries(zip) {
  const script =
    'import sys, zipfile; print("\\n".join(n for n in zipfile.ZipFile(sys.argv[1]).namelist() if not n.endswith("/")))';
  return run('python3', ['-c', script, zip], ROOT).split('\n').filter(Boolean);
}

function main() {
  const { values } = parseArgs({
    options: { out: { type: 'string', default: 'dist/gsm-rotator.zip' } },
  });
  const out = path.resolve(ROOT, values.out);
  const staging = fs.mkdtempSync(path.join(os.tmpdir(), 'gsm-rotator-pack-'));
  try {
    run(
      process.execPath,
      [
        require.resolve('typescript/bin/tsc'),
        '-p',
        'tsconfig.build.json',
        '--outDir',
        path.join(staging, 'build'),
      ],
      ROOT,
    );
    for (const f of ['package.json', 'package-lock.json']) {
      fs.copyFileSync(path.join(ROOT, f), path.join(staging, f));
    }
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.rmSync(out, { force: true });
    run(
      'python3',
      ['-m', 'zipfile', '-c', out, 'package.json', 'package-lock.json', 'build'],
      staging,
    );
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }

  const entries = listEntries(out);
  if (!entries.includes(ENTRY)) throw new Error(`${out} lacks ${ENTRY} (package.json main)`);
  const stray = entries.filter(
    (e) => !ALLOWED.some((a) => (a.endsWith('/') ? e.startsWith(a) : e === a)),
  );
  if (stray.length > 0)
    throw new Error(`${out} holds files outside the product: ${stray.join(', ')}`);
  const bytes = fs.statSync(out).size;
  process.stdout.write(`${out}: ${entries.length} files, ${bytes} bytes\n`);
}

try {
  main();
} catch (err) {
  process.stderr.write(`pack:function: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
