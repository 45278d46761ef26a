"""English messages of the exercises (see the package docstring)."""

MESSAGES = {
    # --- self-check framing --------------------------------------------------------------
    "header": "Self-check: {name}",
    "all_passed": "All {n} checks passed.",
    "some_failed": "{n} checks failed; read the lines marked ✗ above.",
    "run_again": "    Run this cell again once it is.",
    "name.01_attention": "scaled dot-product attention",
    "name.02_multihead": "multi-head attention",
    "name.03_mae_masking": "MAE random masking",
    "name.04_patchify": "patchify / unpatchify",
    "name.05_positional": "sinusoidal positional encoding",
    # --- calls and returned values -----------------------------------------------------------
    "not_implemented": "△ {fn} is not implemented yet (NotImplementedError).",
    "missing_function": "function `{fn}` is not defined.",
    "raised": "`{fn}` raised {exc} (input shapes: {shapes}): {msg}",
    "call_timeout": "`{fn}` did not finish in time (input shapes: {shapes}).",
    "not_run": "the notebook's process ended before `{fn}` could be graded ({why}).",
    "not_tuple": "`{fn}` must return a tuple of {n} values (got {got}).",
    "not_tensor": "{what} must be a torch.Tensor (got {got}).",
    "wrong_shape": "{what} has shape {got}, expected {expected} (input shapes: {shapes}).",
    "wrong_dtype": "{what} has dtype {got}, expected {expected}.",
    "not_finite": "{what} contains NaN or inf (input shapes: {shapes}).",
    "wrong_values": "{what} has wrong values (input shapes: {shapes}).",
    "inputs_modified": "`{fn}` changes its argument `{arg}` in place; compute new tensors and "
    "leave the inputs as they are (input shapes: {shapes}).",
    "rounded": "{what} is rounded to {decimals} decimals; return the exact values "
    "(input shapes: {shapes}).",
    # --- 01_attention --------------------------------------------------------------------------
    "prop.returns_output_and_weights": "returns (output, weights) of the right shapes",
    "prop.weights_are_distributions": "each row of the weights is a distribution",
    "prop.output_without_mask": "output and weights without a mask",
    "prop.output_with_mask": "output and weights with a mask",
    "prop.mask_broadcasts": "a mask that broadcasts",
    "prop.fully_masked_row_is_zero": "a fully masked row gives zeros",
    "prop.inputs_unchanged": "inputs are not modified",
    "columns_sum": "the columns of the weights sum to 1, not the rows: the softmax runs over "
    "the queries; it goes over the keys, the last axis (input shapes: {shapes}).",
    "rows_not_distributions": "rows of the weights are not distributions (>= 0, sum 1) "
    "(input shapes: {shapes}).",
    "wrong_scale": "the weights are softmax(QKᵀ / s) with s = {found}; eq. (1) of Vaswani et "
    "al. (2017) divides by √d_k (d_k = {dk}) (input shapes: {shapes}).",
    "output_not_wv": "the output is not your weights times V (input shapes: {shapes}).",
    "mask_inverted": "the mask is inverted: True means may attend, so the keys where the mask "
    "is False get weight 0 (input shapes: {shapes}).",
    "mask_ignored": "the weights are those without the mask: the mask is not used "
    "(input shapes: {shapes}).",
    "mask_after_softmax": "masked keys have weight 0 but the rows no longer sum to 1: the mask "
    "was applied after the softmax; it goes on the scores before "
    "(input shapes: {shapes}).",
    "fully_masked_nan": "a row whose keys are all masked gives NaN; the course defines its "
    "weights and output as 0 (input shapes: {shapes}).",
    "fully_masked_uniform": "a row whose keys are all masked gets equal weights 1/Nk: the masked "
    "scores were set to a finite number instead of −∞; that row must "
    "give zeros (input shapes: {shapes}).",
    "fully_masked_nonzero": "a row whose keys are all masked has non-zero weights or output; "
    "the course defines them as 0 (input shapes: {shapes}).",
    # --- 02_multihead --------------------------------------------------------------------------
    "prop.split_heads_shape": "shape of split_heads",
    "prop.split_heads_values": "channels per head (split_heads)",
    "prop.merge_heads_values": "merge_heads inverts split_heads",
    "prop.multi_head_attention_output": "output of multi_head_attention",
    "prop.single_head": "one head equals plain attention",
    "head_axis": "split_heads(x) has shape {got}, the layout (B, N, H, D/H); the head axis "
    "comes second: {expected}.",
    "mixed_heads": "the shape is right but channels are mixed across heads: head {h}, token "
    "{token}, position {pos} holds channel {src_d} of token {src_token}, which "
    "belongs to head {src_h}. Split into (B, N, H, D/H) before moving the head "
    "axis forward (input shapes: {shapes}).",
    "merge_mixed": "merge_heads puts the values in the wrong place: token {token}, channel {d} "
    "holds a value of head {src_h}, token {src_token}; merging must undo "
    "split_heads step by step, in reverse order (input shapes: {shapes}).",
    "mha_scale": "the scores are divided by {found}, expected √(D/H) = √{dh}: each head "
    "has d_k = D/H channels (input shapes: {shapes}).",
    "mha_no_projection": "the output is the merged heads without the output projection "
    "proj_weight, proj_bias (input shapes: {shapes}).",
    # --- 03_mae_masking ------------------------------------------------------------------------
    "prop.shapes_and_kept_count": "shapes and number of kept tokens",
    "prop.ids_restore_is_permutation": "ids_restore is a permutation",
    "prop.kept_tokens_and_mask_agree": "x_kept and mask agree with ids_restore",
    "prop.masks_differ": "masks differ between calls",
    "prop.generator_reproduces": "reproducible with a generator",
    "prop.unshuffle_restores_order": "unshuffle restores the original order",
    "kept_count": "kept {got} tokens; with N = {n} and mask_ratio = {ratio} it is "
    "int(N · (1 − mask_ratio)) = {want} (as in the official MAE code).",
    "kept_masked_count": "kept {got} = int(N · mask_ratio) tokens, the number to remove; keep "
    "int(N · (1 − mask_ratio)) = {want} (N = {n}, mask_ratio = {ratio}).",
    "not_permutation": "row {row} of ids_restore is not a permutation of 0..{last} "
    "(input shapes: {shapes}).",
    "ids_restore_is_shuffle": "ids_restore is the shuffle itself: x_kept are the tokens at "
    "ids_restore's first positions. ids_restore should be "
    "argsort(ids_shuffle), the inverse permutation "
    "(input shapes: {shapes}).",
    "mask_inverted_mae": "the mask is inverted: 1 means removed and 0 kept "
    "(input shapes: {shapes}).",
    "mask_shuffled_order": "the mask is in shuffled order (kept first); it must be in the "
    "original order of the patches, like x (input shapes: {shapes}).",
    "kept_wrong": "x_kept is not the tokens ids_restore says are kept (input shapes: {shapes}).",
    "mask_wrong": "mask (1 = removed, original order) disagrees with ids_restore "
    "(input shapes: {shapes}).",
    "not_random": "the same tokens are kept on every call (not random).",
    "seed_ignored": "different generator seeds give the same result (the seed is ignored).",
    "not_reproducible": "the same generator seed does not reproduce the result: draw the "
    "noise from the generator.",
    "unshuffle_inverse": "unshuffle moves the tokens the opposite way; out[b, i] is "
    "x[b, ids_restore[b, i]] (input shapes: {shapes}).",
    # --- 04_patchify ---------------------------------------------------------------------------
    "prop.patchify_shape": "shape of patchify",
    "prop.patchify_values": "pixel order (row, col, channel)",
    "prop.unpatchify_square": "unpatchify with an int image_size",
    "prop.unpatchify_rectangular": "unpatchify with image_size (H, W)",
    "patch_no_permute": "patchify needs a permute: the values were reshaped straight from "
    "(B, C, H, W), so a 'patch' is not a square of the image; its pixels "
    "go in (row, col, channel) order (input shapes: {shapes}).",
    "patch_channel_first": "the right pixels in the wrong order: channel first; the course "
    "(and MAE) uses (row, col, channel) (input shapes: {shapes}).",
    "patch_raster": "the patches are numbered column by column; number them row by row "
    "(input shapes: {shapes}).",
    "patch_col_row": "inside a patch the pixels are in (col, row, channel) order; the course "
    "uses (row, col, channel) (input shapes: {shapes}).",
    "unpatch_not_inverse": "unpatchify puts the right pixels in the wrong places; it must "
    "undo patchify exactly (input shapes: {shapes}).",
    # --- 05_positional -------------------------------------------------------------------------
    "prop.shape_and_dtype": "shape and dtype",
    "prop.sin_cos_pairs": "(sin, cos) pairs and position 0",
    "prop.values_match": "values (frequencies 1/10000^(2i/dim))",
    "sin_cos_swapped": "sin and cos are swapped: position 0 must be (0, 1, 0, 1, ...), even "
    "columns sin, odd columns cos (Vaswani et al. 2017, §3.5).",
    "sincos_concatenated": "sin and cos are concatenated (all sines, then all cosines); the "
    "paper interleaves them: column 2i sin, column 2i+1 cos.",
    "first_row": "row 0 must be (0, 1, 0, 1, ...) (inputs: {shapes}).",
    "cos_extra_t": "column {col} (a cosine) multiplies the position in twice: at position "
    "{pos} it is {got}, expected {want}. sin and cos of a pair share the angle "
    "pos / 10000^(2i/d_model) (inputs: {shapes}).",
    "not_unit": "sin² + cos² is not 1 for each frequency: a (sin, cos) pair does not share its "
    "angle (inputs: {shapes}).",
    "frequency_wrong": "column {col} has the wrong frequency: at position {pos} it is {got}, "
    "expected {want}; the angle is pos / 10000^(2i/d_model) "
    "(inputs: {shapes}).",
}
