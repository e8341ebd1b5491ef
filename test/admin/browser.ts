/**
 * Debian's Chromium driven by playwright-core (never a browser download). Missing, the browser
 * tests are skipped with a line saying so, except under `CI=true`, where they fail.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Why the browser tests cannot run here, or `undefined` when they can. */
export function browserMissing(): string | undefined {
  if (existsSync(CHROMIUM)) return undefined;
  return `no Chromium at ${CHROMIUM} (apt-get install -y chromium; .ci/run does it)`;
}

export interface Chromium {
  /** The browser's one context (its profile is ours: set the cookies a test needs). */
  readonly context: BrowserContext;
  close(): Promise<void>;
}

/**
 * Launches headless Chromium on a fresh profile directory (`--user-data-dir`, which playwright
 * takes as the persistent context's directory), removed on close.
 */
export async function launchChromium(options: { viewport?: { width: number; height: number } } = {}): Promise<Chromium> {
  const profile = mkdtempSync(join(tmpdir(), 'transitional-chromium-'));
  let context: BrowserContext;
  try {
    context = await launch(profile, options.viewport);
  } catch (error) {
    rmSync(profile, { recursive: true, force: true });
    throw error;
  }
  return {
    context,
    async close() {
      await Promise.race([context.close().catch(() => {}), new Promise((resolve) => setTimeout(resolve, 10_000))]);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

function launch(profile: string, viewport: { width: number; height: number } | undefined): Promise<BrowserContext> {
  return chromium.launchPersistentContext(profile, {
    viewport: viewport ?? { width: 1200, height: 900 },
    executablePath: CHROMIUM,
    headless: true,
    timeout: 60_000,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
