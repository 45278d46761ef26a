"""Wrong patchify / unpatchify."""

from . import Bug

P = "04_patchify"
PERMUTE = "x = x.permute(0, 2, 4, 3, 5, 1)"
BUGS = [
    Bug("no_permute", P, ((PERMUTE, "pass"),), "patchify_values", "patch_no_permute"),
    Bug(
        "channel_first",
        P,
        ((PERMUTE, "x = x.permute(0, 2, 4, 1, 3, 5)"),),
        "patchify_values",
        "patch_channel_first",
    ),
    Bug(
        "patches_by_column",
        P,
        ((PERMUTE, "x = x.permute(0, 4, 2, 3, 5, 1)"),),
        "patchify_values",
        "patch_raster",
    ),
    Bug(
        "pixels_col_row",
        P,
        ((PERMUTE, "x = x.permute(0, 2, 4, 5, 3, 1)"),),
        "patchify_values",
        "patch_col_row",
    ),
    Bug(
        "grid_not_flattened",
        P,
        (
            (
                "return x.reshape(B, (H // P) * (W // P), P * P * C)",
                "return x.reshape(B, H // P, W // P, P * P * C)",
            ),
        ),
        "patchify_shape",
        "wrong_shape",
    ),
    Bug(
        "unpatchify_pair_only",
        P,
        (
            (
                "(image_size, image_size) if isinstance(image_size, int) else image_size",
                "image_size",
            ),
        ),
        "unpatchify_square",
        "raised",
    ),
    Bug(
        "unpatchify_square_only",
        P,
        (("else image_size\n", "else (image_size[0], image_size[0])\n"),),
        "unpatchify_rectangular",
        "raised",
    ),
    Bug(
        "unpatchify_wrong_permute",
        P,
        (("x = x.permute(0, 5, 1, 3, 2, 4)", "x = x.permute(0, 5, 1, 4, 2, 3)"),),
        "unpatchify_square",
        "unpatch_not_inverse",
    ),
]
