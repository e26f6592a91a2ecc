import { strict as assert } from "node:assert";
import { initBackend } from "../../src/backend/mod.ts";
import { exists } from "../../src/util/fs.ts";
import { toyStores } from "./_toy.ts";

await initBackend({ log: false });
const child = new URL("./_distill_child.ts", import.meta.url).pathname;

function run(root: string, out: string, method: string) {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", child, root, out, method],
    stdout: "null",
    stderr: "piped",
  });
}

for (const method of ["mtt", "mct"]) {
  Deno.test(`${method}: a distillation killed with SIGKILL resumes to the same images as an uninterrupted run`, async () => {
    const root = await Deno.makeTempDir({ prefix: "trajbench-kill-" });
    await toyStores(root);
    const whole = await run(root, `${root}/whole`, method).output();
    assert.ok(whole.success, new TextDecoder().decode(whole.stderr));

    const proc = run(root, `${root}/killed`, method).spawn();
    const ckpt = `${root}/killed/checkpoint.json`;
    const deadline = Date.now() + 60_000;
    let iteration = 0;
    while (Date.now() < deadline) {
      if (await exists(ckpt)) {
        try {
          iteration = JSON.parse(await Deno.readTextFile(ckpt)).state.iteration;
        } catch {
          // Renamed into place atomically, so a parse error means it is being replaced.
        }
        if (iteration >= 5) break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    proc.kill("SIGKILL");
    await proc.status;
    assert.ok(
      iteration >= 5 && !(await exists(`${root}/killed/final.f32`)),
      `killed mid-run (iteration ${iteration})`,
    );

    const resumed = await run(root, `${root}/killed`, method).output();
    assert.ok(resumed.success, new TextDecoder().decode(resumed.stderr));
    assert.deepEqual(
      await Deno.readFile(`${root}/killed/final.f32`),
      await Deno.readFile(`${root}/whole/final.f32`),
    );
  });
}
