"""Image folders: streaming against decoding the whole folder into memory, while training.

Each case runs in its own process (so peak RSS is its own) and trains the DCGAN on 64x64 RGB
images of a folder with `GAN.fit`, batch 64, at `train.py`'s `auto` precision (bfloat16 only
where the CPU has it: without AVX512-BF16 it is emulated and several times slower than float32):
- `in-memory`: the old path: every file decoded with Pillow (thread pool) into one uint8 array,
  then the in-memory pipeline (`keras_gan.data.arrays.pipeline_from_arrays`);
- `stream`: `data.load(folder)`: file names shuffled, decoded on tf.data's threads as needed;
- `stream+cache`: `data.load(folder, cache_dir=...)`, measured on the pass after the one that
  wrote the cache.
Printed per case: peak RSS, seconds from `load` to the end of the first training step, and
training images/s over a timed window (`--steps` steps after `--warmup`; for `stream+cache`
the same window on the second pass). The DCGAN is 32 filters wide by default: at 64 a step is
about four times the work, and 110 steps of one case took over 9 minutes on 2 cores.

    python benchmarks/folder_streaming.py --make 100000     # writes the folder once (~5 min)
    python benchmarks/folder_streaming.py --folders /tmp/kg_folder_10k /tmp/kg_folder_100k \
        --cases in-memory stream
    python benchmarks/folder_streaming.py --folders /tmp/kg_folder_10k --cases stream+cache
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

BATCH_SIZE = 64
IMAGE_SIZE = 64
CASES = ("in-memory", "stream", "stream+cache")


def make_folder(root: Path, count: int, size: int = IMAGE_SIZE) -> Path:
    """`count` RGB PNGs of smooth random colour (bicubic 8x8 upsampled) in 10 class folders."""
    from PIL import Image

    rng = np.random.default_rng(0)
    for index in range(count):
        folder = root / f"class_{index % 10}"
        folder.mkdir(parents=True, exist_ok=True)
        coarse = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
        Image.fromarray(coarse).resize((size, size), Image.Resampling.BICUBIC).save(
            folder / f"{index:06d}.png"
        )
    return root


def in_memory_dataset(folder: str, seed: int):
    """The pre-streaming image-folder path: decode everything, then slice an array."""
    from keras_gan.data import arrays
    from keras_gan.data.base import PipelineSettings
    from keras_gan.data.folders import decode_image

    paths = sorted(str(path) for path in Path(folder).rglob("*.png"))
    workers = min(8, os.cpu_count() or 1)
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        images = np.stack(list(pool.map(lambda p: decode_image(p, False, IMAGE_SIZE), paths)))
    settings = PipelineSettings(BATCH_SIZE, False, True, seed, True)
    return arrays.pipeline_from_arrays(images, None, settings), len(paths)


def run_case(case: str, folder: str, steps: int, warmup: int, base_filters: int) -> dict:
    """Train in this process and return the figures (run as `--child`)."""
    import keras

    from keras_gan import GAN, data, networks, performance

    keras.mixed_precision.set_global_policy(performance.recommended_precision())
    keras.utils.set_random_seed(0)
    generator, discriminator = networks.build(
        "dcgan", image_shape=(IMAGE_SIZE, IMAGE_SIZE, 3), latent_dim=100, base_filters=base_filters
    )
    gan = GAN(generator, discriminator, latent_dim=100, seed=0)
    gan.compile(
        d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
        g_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
    )
    cache = tempfile.mkdtemp(prefix="kg-cache-")
    start = time.perf_counter()
    if case == "in-memory":
        dataset, count = in_memory_dataset(folder, seed=0)
    else:
        dataset, info = data.load(
            folder,
            batch_size=BATCH_SIZE,
            image_size=IMAGE_SIZE,
            channels=3,
            seed=0,
            cache_dir=cache if case == "stream+cache" else None,
            return_info=True,
        )
        count = info.num_examples
    passes_before = 1 if case == "stream+cache" else 0
    per_pass = count // BATCH_SIZE
    times: list[float] = []

    class Clock(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            times.append(time.perf_counter())

    total = passes_before * per_pass + warmup + steps
    if passes_before:
        gan.fit(dataset, epochs=1, verbose=0, callbacks=[Clock()])
        gan.fit(dataset.take(warmup + steps), epochs=1, verbose=0, callbacks=[Clock()])
    else:
        gan.fit(dataset.take(total), epochs=1, verbose=0, callbacks=[Clock()])
    window = times[-steps - 1 :]
    return {
        "case": case,
        "folder": folder,
        "images": count,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "first_step_s": times[0] - start,
        "images_per_s": steps * BATCH_SIZE / (window[-1] - window[0]),
        "cache_mib": sum(p.stat().st_size for p in Path(cache).iterdir()) / 2**20,
        "precision": keras.mixed_precision.global_policy().name,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folders", nargs="+", default=["/tmp/kg_folder_100k"])
    parser.add_argument("--cases", nargs="+", default=list(CASES), choices=CASES)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--base-filters", type=int, default=32, help="DCGAN width")
    parser.add_argument("--make", type=int, help="write a folder of this many PNGs and exit")
    parser.add_argument("--child", nargs=2, metavar=("CASE", "FOLDER"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.make:
        print(make_folder(Path(args.folders[0]), args.make))
        return
    if args.child:
        print(json.dumps(run_case(*args.child, args.steps, args.warmup, args.base_filters)))
        return
    print(
        f"DCGAN 64x64x3 (base_filters {args.base_filters}), batch {BATCH_SIZE}, "
        f"{args.steps} timed steps after {args.warmup}"
    )
    columns = ["folder", "images", "case", "peak RSS (MiB)", "to 1st step (s)", "images/s"]
    columns += ["cache (MiB)", "precision"]
    print("| " + " | ".join(columns) + " |")
    print("|---" * len(columns) + "|")
    baseline: dict[str, float] = {}
    for folder in args.folders:
        for case in args.cases:
            command = [sys.executable, __file__, "--child", case, folder]
            command += ["--steps", str(args.steps), "--warmup", str(args.warmup)]
            command += ["--base-filters", str(args.base_filters)]
            child = subprocess.run(command, capture_output=True, text=True, check=False)
            if child.returncode != 0:
                print(f"| {folder} | | {case} | failed: {child.stderr.strip().splitlines()[-1]} |")
                continue
            row = json.loads(child.stdout.strip().splitlines()[-1])
            if case == "in-memory":
                baseline[folder] = row["images_per_s"]
            ratio = row["images_per_s"] / baseline[folder] if folder in baseline else float("nan")
            print(
                f"| {Path(folder).name} | {row['images']:,} | {case} | {row['peak_rss_mib']:,.0f} "
                f"| {row['first_step_s']:.1f} | {row['images_per_s']:.0f} ({ratio:.2f}x) "
                f"| {row['cache_mib']:,.0f} | {row['precision']} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
