"""Chinese messages of the exercises (see the package docstring)."""

MESSAGES = {
    # --- self-check framing --------------------------------------------------------------
    "header": "自检：{name}",
    "all_passed": "全部通过（共 {n} 项）。",
    "some_failed": "有 {n} 项未通过。请阅读上面标 ✗ 的行并修改。",
    "run_again": "    完成后请重新运行这个单元格。",
    "name.01_attention": "缩放点积注意力",
    "name.02_multihead": "多头注意力",
    "name.03_mae_masking": "MAE 随机掩码",
    "name.04_patchify": "patchify / unpatchify",
    "name.05_positional": "正弦位置编码",
    # --- calls and returned values -----------------------------------------------------------
    "not_implemented": "△ {fn} 还没有实现（NotImplementedError）。",
    "missing_function": "未定义函数 `{fn}`。",
    "raised": "`{fn}` 抛出了 {exc}（输入形状: {shapes}）: {msg}",
    "call_timeout": "`{fn}` 未在时限内结束（输入形状: {shapes}）。",
    "not_run": "笔记本进程中途退出，无法评分 `{fn}`（{why}）。",
    "not_tuple": "`{fn}` 必须返回包含 {n} 个值的元组（实际返回: {got}）。",
    "not_tensor": "{what} 必须是 torch.Tensor（实际: {got}）。",
    "wrong_shape": "{what} 的形状 {got} 不对（应为 {expected}，输入形状: {shapes}）。",
    "wrong_dtype": "{what} 的数据类型 {got} 不对（应为 {expected}）。",
    "not_finite": "{what} 含有 NaN 或 inf（输入形状: {shapes}）。",
    "wrong_values": "{what} 的数值不正确（输入形状: {shapes}）。",
    "inputs_modified": "`{fn}` 原地修改了参数 `{arg}`。请保持输入不变，用新的张量计算（输入形状: {shapes}）。",
    "rounded": "{what} 被舍入到小数点后 {decimals} 位。请返回未经舍入的数值（输入形状: {shapes}）。",
    # --- 01_attention --------------------------------------------------------------------------
    "prop.returns_output_and_weights": "返回值 (output, weights) 的形状",
    "prop.weights_are_distributions": "权重的每一行是概率分布",
    "prop.output_without_mask": "无遮蔽时的输出和权重",
    "prop.output_with_mask": "有遮蔽时的输出和权重",
    "prop.mask_broadcasts": "可广播的遮蔽",
    "prop.fully_masked_row_is_zero": "全部键被遮蔽的行为 0",
    "prop.inputs_unchanged": "不修改输入张量",
    "columns_sum": "权重的每一列（而不是每一行）之和为 1：softmax 是不是沿查询的轴做的？应该沿键的轴"
    "（最后一个轴）（输入形状: {shapes}）。",
    "rows_not_distributions": "注意力权重的每一行不是概率分布（非负且和为 1）（输入形状: {shapes}）。",
    "wrong_scale": "权重等于 softmax(QKᵀ / s)，其中 s = {found}。Vaswani et al. (2017) 式 (1) 除以 √d_k"
    "（d_k = {dk}）（输入形状: {shapes}）。",
    "output_not_wv": "输出与“自己的权重 × V”不一致（输入形状: {shapes}）。",
    "mask_inverted": "掩码反了：True 表示“可以关注”，所以权重为 0 的应是 mask 为 False 的键（输入形状: {shapes}）。",
    "mask_ignored": "权重与不加掩码时相同：没有使用掩码（输入形状: {shapes}）。",
    "mask_after_softmax": "被遮蔽的键权重为 0，但每行之和不再是 1：掩码是在 softmax 之后作用的。应在 softmax "
    "之前作用在分数上（输入形状: {shapes}）。",
    "fully_masked_nan": "所有键都被屏蔽的那一行出现了 NaN。本课程约定这一行的权重和输出为 0（输入形状: {shapes}）。",
    "fully_masked_uniform": "所有键都被屏蔽的那一行得到了相等的权重 1/Nk：被屏蔽的分数被设成了有限的数而不是 −∞。"
    "这一行应为 0（输入形状: {shapes}）。",
    "fully_masked_nonzero": "所有键都被屏蔽的那一行，其权重或输出不为 0。本课程约定为 0（输入形状: {shapes}）。",
    # --- 02_multihead --------------------------------------------------------------------------
    "prop.split_heads_shape": "split_heads 的形状",
    "prop.split_heads_values": "通道分配到各头（split_heads）",
    "prop.merge_heads_values": "merge_heads 是 split_heads 的逆",
    "prop.multi_head_attention_output": "multi_head_attention 的输出",
    "prop.single_head": "单头时与普通注意力一致",
    "head_axis": "split_heads(x) 的形状是 {got}，即 (B, N, H, D/H) 的排列。头的轴应在第二位：{expected}。",
    "mixed_heads": "形状正确，但各头之间的通道混在了一起：头 {h} 的 token {token} 的位置 {pos} 上，是 token "
    "{src_token} 的通道 {src_d}（本应属于头 {src_h}）。应先分成 (B, N, H, D/H)，再把头的轴移到前面"
    "（输入形状: {shapes}）。",
    "merge_mixed": "merge_heads 把数值放错了位置：token {token} 的通道 {d} 上是头 {src_h}、token {src_token} "
    "的值。应按与 split_heads 相反的顺序逐步还原（输入形状: {shapes}）。",
    "mha_scale": "分数除以了 {found}，应除以 √(D/H) = √{dh}：每个头的 d_k 是 D/H（输入形状: {shapes}）。",
    "mha_no_projection": "输出只是合并后的各头，缺少输出投影（proj_weight, proj_bias）（输入形状: {shapes}）。",
    # --- 03_mae_masking ------------------------------------------------------------------------
    "prop.shapes_and_kept_count": "返回值的形状和保留的标记数",
    "prop.ids_restore_is_permutation": "ids_restore 是排列",
    "prop.kept_tokens_and_mask_agree": "x_kept 和 mask 与 ids_restore 一致",
    "prop.masks_differ": "每次不同的遮蔽",
    "prop.generator_reproduces": "generator 的可复现性",
    "prop.unshuffle_restores_order": "unshuffle 恢复原始顺序",
    "kept_count": "保留了 {got} 个标记。N = {n}、mask_ratio = {ratio} 时应为 int(N · (1 − mask_ratio)) = "
    "{want} 个（与 MAE 官方实现一致）。",
    "kept_masked_count": "保留了 int(N · mask_ratio) = {got} 个标记，这是要遮蔽的数量。应保留 "
    "int(N · (1 − mask_ratio)) = {want} 个（N = {n}，mask_ratio = {ratio}）。",
    "not_permutation": "ids_restore 第 {row} 行不是 0..{last} 的一个排列（输入形状: {shapes}）。",
    "ids_restore_is_shuffle": "ids_restore 就是打乱本身：x_kept 是 ids_restore 前几个位置上的标记。ids_restore "
    "应为 argsort(ids_shuffle)，即逆排列（输入形状: {shapes}）。",
    "mask_inverted_mae": "mask 反了：1 = 移除，0 = 保留（输入形状: {shapes}）。",
    "mask_shuffled_order": "mask 是打乱后的顺序（保留的在前）。它应与 x 一样按原始 patch 顺序排列"
    "（输入形状: {shapes}）。",
    "kept_wrong": "x_kept 与 ids_restore 所示的保留标记不一致（输入形状: {shapes}）。",
    "mask_wrong": "mask（1 = 移除，原始顺序）与 ids_restore 不一致（输入形状: {shapes}）。",
    "not_random": "多次调用保留的标记都相同（不是随机的）。",
    "seed_ignored": "改变 generator 的种子结果仍相同（没有使用种子）。",
    "not_reproducible": "使用相同种子的 generator 时结果不能复现。随机数应由 generator 生成。",
    "unshuffle_inverse": "unshuffle 把标记朝相反方向移动了。out[b, i] 是 x[b, ids_restore[b, i]]"
    "（输入形状: {shapes}）。",
    # --- 04_patchify ---------------------------------------------------------------------------
    "prop.patchify_shape": "patchify 的形状",
    "prop.patchify_values": "像素顺序 (行, 列, 通道)",
    "prop.unpatchify_square": "unpatchify（image_size 为 int）",
    "prop.unpatchify_rectangular": "unpatchify（image_size 为 (H, W)）",
    "patch_no_permute": "patchify 需要重排轴（permute）：直接把 (B, C, H, W) 的数值重新排列，所以“patch”不是图像中"
    "的正方形。patch 内像素按（行，列，通道）的顺序（输入形状: {shapes}）。",
    "patch_channel_first": "像素正确但顺序不对：通道在前。本课程（以及 MAE）的顺序是（行，列，通道）"
    "（输入形状: {shapes}）。",
    "patch_raster": "patch 是按列编号的。应按行编号（从左上角向右，再到下一行）（输入形状: {shapes}）。",
    "patch_col_row": "patch 内像素是（列，行，通道）的顺序。本课程是（行，列，通道）（输入形状: {shapes}）。",
    "unpatch_not_inverse": "unpatchify 把正确的像素放到了错误的位置。它必须恰好还原 patchify（输入形状: {shapes}）。",
    # --- 05_positional -------------------------------------------------------------------------
    "prop.shape_and_dtype": "形状和类型",
    "prop.sin_cos_pairs": "(sin, cos) 成对与位置 0",
    "prop.values_match": "数值（频率 1/10000^(2i/dim)）",
    "sin_cos_swapped": "sin 和 cos 互换了：位置 0 应为 (0, 1, 0, 1, ...)，偶数列为 sin，奇数列为 cos"
    "（Vaswani et al. 2017, §3.5）。",
    "sincos_concatenated": "sin 和 cos 被拼接了（先全部 sin，再全部 cos）。论文是交替排列：第 2i 列 sin，第 2i+1 列 cos。",
    "first_row": "位置 0 的行应为 (0, 1, 0, 1, ...)（输入: {shapes}）。",
    "cos_extra_t": "第 {col} 列（cos）把位置乘了两次：位置 {pos} 处为 {got}，应为 {want}。成对的 sin 和 cos 使用"
    "同一个角度 pos / 10000^(2i/d_model)（输入: {shapes}）。",
    "not_unit": "各频率上 sin² + cos² 不等于 1：(sin, cos) 这一对没有使用同一个角度（输入: {shapes}）。",
    "frequency_wrong": "第 {col} 列的频率不对：位置 {pos} 处为 {got}，应为 {want}。角度是 pos / 10000^(2i/d_model)"
    "（输入: {shapes}）。",
}
