import { chmod, mkdir, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { RefusedToStart } from "./startup.js";

/**
 * The embedded database's folder holds the signing keys' private parts (in its tables and its
 * write-ahead log): whoever reads it can forge tokens. It is created owner-only (0700) and the
 * server refuses to start on one that others can read, write or enter.
 */
export async function prepareDataDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const { mode } = await stat(dir);
  if ((mode & 0o077) !== 0) {
    throw new RefusedToStart(
      `the data folder ${dir} is accessible to other users (mode ${(mode & 0o777).toString(8).padStart(3, "0")}); it holds the signing keys: run \`chmod 700 ${dir}\` and start again`,
    );
  }
}

/**
 * Files the database created with the process umask become owner-only (0600, folders 0700).
 * Files it creates later are behind the owner-only folder. The changes are asked for all at once
 * (libuv's threads work through them while the start goes on): one after another, a data
 * folder's thousand-odd files took 50–150 ms of every start.
 */
export async function tightenDataDir(dir: string): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  await Promise.all(
    entries.map((entry) => {
      const path = join(entry.parentPath, entry.name);
      if (entry.isDirectory()) return chmod(path, 0o700);
      if (entry.isFile()) return chmod(path, 0o600);
      return undefined;
    }),
  );
}
