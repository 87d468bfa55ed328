// `callboard start` serves the wallboard it builds: once on a fresh clone, and again whenever its
// sources are newer than the build (a pull, an edit), never a stale copy.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { wallboardBuildNeeded } from '../start.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tree(): { src: string; dist: string; touch: (path: string, atS: number) => void } {
  const root = mkdtempSync(join(tmpdir(), 'callboard-wallboard-'));
  dirs.push(root);
  const src = join(root, 'wallboard');
  const dist = join(src, 'dist');
  const touch = (path: string, atS: number) => {
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, 'x');
    utimesSync(path, atS, atS);
  };
  return { src, dist, touch };
}

describe('wallboardBuildNeeded', () => {
  it('builds a wallboard never built, and one whose sources changed since; not one that is current', () => {
    const { src, dist, touch } = tree();
    touch(join(src, 'src', 'lib', 'board.ts'), 1_000);
    touch(join(src, 'index.html'), 1_000);
    expect(wallboardBuildNeeded(dist, src)).toBe('not built yet');
    touch(join(dist, 'index.html'), 2_000);
    expect(wallboardBuildNeeded(dist, src)).toBeNull();
    // A file deep in src edited (or pulled) after the build.
    touch(join(src, 'src', 'lib', 'board.ts'), 3_000);
    expect(wallboardBuildNeeded(dist, src)).toBe('its sources changed since it was built');
    touch(join(dist, 'index.html'), 4_000);
    expect(wallboardBuildNeeded(dist, src)).toBeNull();
    touch(join(src, 'vite.config.ts'), 5_000);
    expect(wallboardBuildNeeded(dist, src)).toBe('its sources changed since it was built');
  });

  it('serves a build placed where there are no sources (an image that ships only dist), and never rebuilds an operator\'s own WALLBOARD_DIST', () => {
    const { src, dist, touch } = tree();
    touch(join(dist, 'index.html'), 2_000);
    expect(wallboardBuildNeeded(dist, join(src, 'absent'))).toBeNull();
    touch(join(src, 'src', 'main.ts'), 3_000);
    expect(wallboardBuildNeeded(dist, src)).toBe('its sources changed since it was built');
    expect(wallboardBuildNeeded(dist, src, false)).toBeNull();
    expect(wallboardBuildNeeded(join(src, 'elsewhere'), src, false)).toBe('not built yet');
  });

  it('does not follow links out of the sources (a link loop would never end)', () => {
    const { src, dist, touch } = tree();
    touch(join(src, 'src', 'a.ts'), 1_000);
    symlinkSync(join(src, 'src'), join(src, 'src', 'loop'));
    touch(join(dist, 'index.html'), 2_000);
    expect(wallboardBuildNeeded(dist, src)).toBeNull();
  });
});
