"""Which rows go into which batch, in an order that a resumed run can reproduce exactly.

Batches of one epoch are a pure function of (seed, epoch), so a run restarted at step N
rebuilds the same list and starts at the batch step N would have read, without touching
the rows before it. Length grouping sorts rows by length inside large random windows, so
batches carry little padding while the epoch order stays random.
"""

from __future__ import annotations

import random

WINDOW_BATCHES = 50


def epoch_batches(
    lengths: list[int],
    batch_size: int,
    seed: int,
    epoch: int,
    group_by_length: bool = True,
    rank: int = 0,
    world: int = 1,
) -> list[list[int]]:
    """This rank's batches (lists of positions into `lengths`) for one epoch."""
    rng = random.Random(seed * 100_003 + epoch)
    order = list(range(len(lengths)))
    rng.shuffle(order)
    if group_by_length:
        window = batch_size * WINDOW_BATCHES
        grouped = []
        for i in range(0, len(order), window):
            grouped += sorted(order[i : i + window], key=lambda j: -lengths[j])
        order = grouped
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    if group_by_length and batches:
        # The longest batch first: a run that will run out of memory does so at step 1.
        longest = max(range(len(batches)), key=lambda b: max(lengths[j] for j in batches[b]))
        head = batches.pop(longest)
        rng.shuffle(batches)
        batches.insert(0, head)
    if world > 1:
        # Every rank must take the same number of steps, or collective calls hang.
        while len(batches) < world:
            batches += batches[: world - len(batches)]
        usable = len(batches) - len(batches) % world
        batches = batches[:usable][rank::world]
    return batches


class RowDataset:
    """Map-style dataset over conversations: images are read when a row is fetched."""

    def __init__(self, convs, where: list[str], rows: list[int], encoder):
        self.convs, self.where, self.rows, self.encoder = convs, where, rows, encoder

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int):
        row = self.rows[i]
        return self.encoder.example(self.convs[row], self.where[row])


class FixedBatches:
    """A batch sampler that yields a precomputed list of batches."""

    def __init__(self, batches: list[list[int]]):
        self.batches = batches

    def __iter__(self):
        return iter(self.batches)

    def __len__(self) -> int:
        return len(self.batches)
