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
 * Files it creates later are behind the owner-only folder.
 */
export async function tightenDataDir(dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    const path = join(entry.parentPath, entry.name);
    if (entry.isDirectory()) await chmod(path, 0o700);
    else if (entry.isFile()) await chmod(path, 0o600);
  }
}
