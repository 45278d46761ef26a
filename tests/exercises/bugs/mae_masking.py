"""Wrong random_masking / unshuffle."""

from . import Bug

R = "03_mae_masking"
RESTORE = "ids_restore = torch.argsort(ids_shuffle, dim=1)"
BUGS = [
    Bug(
        "keeps_mask_ratio",
        R,
        (("    len_keep = int(N * (1 - mask_ratio))\n", "    len_keep = int(N * mask_ratio)\n"),),
        "shapes_and_kept_count",
        "kept_masked_count",
    ),
    Bug(
        "ids_restore_is_ids_shuffle",
        R,
        ((RESTORE, "ids_restore = ids_shuffle"),),
        "kept_tokens_and_mask_agree",
        "ids_restore_is_shuffle",
    ),
    Bug(
        "mask_one_means_kept",
        R,
        (
            ("mask = torch.ones(B, N", "mask = torch.zeros(B, N"),
            ("mask[:, :len_keep] = 0", "mask[:, :len_keep] = 1"),
        ),
        "kept_tokens_and_mask_agree",
        "mask_inverted_mae",
    ),
    Bug(
        "mask_not_unshuffled",
        R,
        (("mask = torch.gather(mask, 1, ids_restore)", "pass"),),
        "kept_tokens_and_mask_agree",
        "mask_shuffled_order",
    ),
    Bug(
        "ignores_generator",
        R,
        (("torch.rand(B, N, generator=generator)", "torch.rand(B, N)"),),
        "generator_reproduces",
        "not_reproducible",
    ),
    Bug(
        "no_randomness",
        R,
        (
            (
                "noise = torch.rand(B, N, generator=generator).to(x.device)",
                "noise = torch.arange(N, dtype=torch.float32).repeat(B, 1)",
            ),
        ),
        "masks_differ",
        "not_random",
    ),
    Bug(
        "ids_restore_from_noise",
        R,
        ((RESTORE, "ids_restore = (noise * N).long()"),),
        "ids_restore_is_permutation",
        "not_permutation",
    ),
    Bug(
        "unshuffle_backwards",
        R,
        (
            (
                "index = ids_restore.unsqueeze(-1)",
                "index = torch.argsort(ids_restore, dim=1).unsqueeze(-1)",
            ),
        ),
        "unshuffle_restores_order",
        "unshuffle_inverse",
    ),
]
