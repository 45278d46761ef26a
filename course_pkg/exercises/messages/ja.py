"""Japanese messages of the exercises (see the package docstring)."""

MESSAGES = {
    # --- self-check framing --------------------------------------------------------------
    "header": "セルフチェック: {name}",
    "all_passed": "すべて合格です（{n} 項目）。",
    "some_failed": "{n} 項目が不合格です。上の ✗ の行を読んで直してみましょう。",
    "run_again": "    実装してからもう一度このセルを実行してください。",
    "name.01_attention": "スケール化内積アテンション",
    "name.02_multihead": "マルチヘッドアテンション",
    "name.03_mae_masking": "MAE のランダムマスキング",
    "name.04_patchify": "patchify / unpatchify",
    "name.05_positional": "正弦波の位置エンコーディング",
    # --- calls and returned values -----------------------------------------------------------
    "not_implemented": "△ {fn} はまだ実装されていません（NotImplementedError）。",
    "missing_function": "関数 `{fn}` が定義されていません。",
    "raised": "`{fn}` が {exc} を送出しました（入力の形状: {shapes}）: {msg}",
    "call_timeout": "`{fn}` が制限時間内に終わりませんでした（入力の形状: {shapes}）。",
    "not_run": "ノートブックのプロセスが途中で終了したため `{fn}` を採点できませんでした（{why}）。",
    "not_tuple": "`{fn}` は {n} 個の値のタプルを返す必要があります（戻り値: {got}）。",
    "not_tensor": "{what} は torch.Tensor である必要があります（戻り値: {got}）。",
    "wrong_shape": "{what} の形状 {got} が違います（期待: {expected}、入力の形状: {shapes}）。",
    "wrong_dtype": "{what} のデータ型 {got} が違います（期待: {expected}）。",
    "not_finite": "{what} に NaN または inf が含まれています（入力の形状: {shapes}）。",
    "wrong_values": "{what} の値が正しくありません（入力の形状: {shapes}）。",
    "inputs_modified": "`{fn}` が引数 `{arg}` をその場で書き換えています。入力はそのままにして、"
    "新しいテンソルで計算してください（入力の形状: {shapes}）。",
    "rounded": "{what} が小数 {decimals} 桁に丸められています。丸めずにそのままの値を返してください"
    "（入力の形状: {shapes}）。",
    # --- 01_attention --------------------------------------------------------------------------
    "prop.returns_output_and_weights": "戻り値 (output, weights) の形状",
    "prop.weights_are_distributions": "重みの各行は確率分布",
    "prop.output_without_mask": "マスクなしの出力と重み",
    "prop.output_with_mask": "マスクありの出力と重み",
    "prop.mask_broadcasts": "ブロードキャストされるマスク",
    "prop.fully_masked_row_is_zero": "全キーがマスクされた行は 0",
    "prop.inputs_unchanged": "入力テンソルを書き換えない",
    "columns_sum": "重みの各行ではなく各列の和が 1 になっています。softmax をクエリの軸で取っていませんか？"
    "キーの軸（最後の軸）で取ります（入力の形状: {shapes}）。",
    "rows_not_distributions": "注意の重みの各行が確率分布（0 以上で和が 1）になっていません"
    "（入力の形状: {shapes}）。",
    "wrong_scale": "重みは softmax(QKᵀ / s) で s = {found} になっています。Vaswani et al. (2017) の"
    "式 (1) では √d_k（d_k = {dk}）で割ります（入力の形状: {shapes}）。",
    "output_not_wv": "出力が「自分の重み × V」と一致しません（入力の形状: {shapes}）。",
    "mask_inverted": "マスクが反転しています: True は「見てよい」の意味なので、重みが 0 になるのは mask が "
    "False のキーです（入力の形状: {shapes}）。",
    "mask_ignored": "重みがマスクなしのときと同じです: マスクが使われていません（入力の形状: {shapes}）。",
    "mask_after_softmax": "マスクされたキーの重みは 0 ですが、各行の和が 1 になりません: マスクを softmax の"
    "後にかけています。softmax の前にスコアへかけます（入力の形状: {shapes}）。",
    "fully_masked_nan": "全てのキーがマスクされた行で NaN が出ました。この講座ではその行の重みと出力を 0 と"
    "約束します（入力の形状: {shapes}）。",
    "fully_masked_uniform": "全てのキーがマスクされた行の重みが均等（1/Nk）になっています: マスクしたスコアを"
    " −∞ ではなく有限の数にしています。この行は 0 になるはずです（入力の形状: {shapes}）。",
    "fully_masked_nonzero": "全てのキーがマスクされた行の重みまたは出力が 0 ではありません。この講座では 0 と"
    "約束します（入力の形状: {shapes}）。",
    # --- 02_multihead --------------------------------------------------------------------------
    "prop.split_heads_shape": "split_heads の形状",
    "prop.split_heads_values": "ヘッドへのチャネルの割り当て（split_heads）",
    "prop.merge_heads_values": "merge_heads は split_heads の逆",
    "prop.multi_head_attention_output": "multi_head_attention の出力",
    "prop.single_head": "1 ヘッドのとき通常の注意と一致",
    "head_axis": "split_heads(x) の形が {got}、つまり (B, N, H, D/H) の並びです。ヘッドの軸は 2 番目です: "
    "{expected}。",
    "mixed_heads": "形は正しいのですが、ヘッド間でチャネルが混ざっています: ヘッド {h} のトークン {token} の"
    "位置 {pos} に、トークン {src_token} のチャネル {src_d}（本来はヘッド {src_h}）が入って"
    "います。(B, N, H, D/H) に分けてからヘッドの軸を前に移してください（入力の形状: {shapes}）。",
    "merge_mixed": "merge_heads が値を違う場所に置いています: トークン {token} のチャネル {d} に、ヘッド "
    "{src_h}・トークン {src_token} の値が入っています。split_heads の手順を逆の順に戻してください"
    "（入力の形状: {shapes}）。",
    "mha_scale": "スコアを {found} で割っています。各ヘッドの d_k は D/H なので √(D/H) = √{dh} で割ります"
    "（入力の形状: {shapes}）。",
    "mha_no_projection": "出力がヘッドを結合しただけで、出力の射影（proj_weight, proj_bias）がありません"
    "（入力の形状: {shapes}）。",
    # --- 03_mae_masking ------------------------------------------------------------------------
    "prop.shapes_and_kept_count": "戻り値の形状と残すトークンの数",
    "prop.ids_restore_is_permutation": "ids_restore は並べ替え",
    "prop.kept_tokens_and_mask_agree": "x_kept と mask が ids_restore と一致",
    "prop.masks_differ": "毎回違うマスク",
    "prop.generator_reproduces": "generator による再現性",
    "prop.unshuffle_restores_order": "unshuffle で元の順序に戻る",
    "kept_count": "残したトークンが {got} 個です。N = {n}、mask_ratio = {ratio} なら "
    "int(N · (1 − mask_ratio)) = {want} 個です（MAE の公式実装と同じ）。",
    "kept_masked_count": "残したトークンが int(N · mask_ratio) = {got} 個、つまり隠す数です。残すのは "
    "int(N · (1 − mask_ratio)) = {want} 個です（N = {n}、mask_ratio = {ratio}）。",
    "not_permutation": "ids_restore の {row} 行目が 0..{last} の並べ替えになっていません（入力の形状: {shapes}）。",
    "ids_restore_is_shuffle": "ids_restore が並べ替えそのものになっています: x_kept が ids_restore の先頭の位置の"
    "トークンです。ids_restore は argsort(ids_shuffle)、つまり逆の並べ替えです"
    "（入力の形状: {shapes}）。",
    "mask_inverted_mae": "mask が反転しています: 1 = 隠す、0 = 残す です（入力の形状: {shapes}）。",
    "mask_shuffled_order": "mask が並べ替え後の順序（残すものが先）になっています。x と同じ元のパッチの順序に"
    "してください（入力の形状: {shapes}）。",
    "kept_wrong": "x_kept が ids_restore の示す残すトークンと一致しません（入力の形状: {shapes}）。",
    "mask_wrong": "mask（1 = 隠す、元の順序）が ids_restore と一致しません（入力の形状: {shapes}）。",
    "not_random": "何度呼んでも同じトークンが残ります（ランダムになっていません）。",
    "seed_ignored": "generator のシードを変えても同じ結果になります（シードが使われていません）。",
    "not_reproducible": "同じシードの generator で結果が再現しません。乱数は generator から作ってください。",
    "unshuffle_inverse": "unshuffle がトークンを逆向きに動かしています。out[b, i] は x[b, ids_restore[b, i]] "
    "です（入力の形状: {shapes}）。",
    # --- 04_patchify ---------------------------------------------------------------------------
    "prop.patchify_shape": "patchify の形状",
    "prop.patchify_values": "画素の順序 (行, 列, チャネル)",
    "prop.unpatchify_square": "unpatchify（image_size が int）",
    "prop.unpatchify_rectangular": "unpatchify（image_size が (H, W)）",
    "patch_no_permute": "patchify には軸の並べ替え（permute）が必要です: (B, C, H, W) の値をそのまま並べ直した"
    "ので、「パッチ」が画像の正方形になっていません。パッチ内の画素は（行, 列, チャネル）の順"
    "です（入力の形状: {shapes}）。",
    "patch_channel_first": "画素は正しいのですが順序が違います: チャネルが先になっています。この講座（と MAE）は"
    "（行, 列, チャネル）の順です（入力の形状: {shapes}）。",
    "patch_raster": "パッチが列ごとに番号付けされています。行ごと（左上から右へ、次の行へ）に番号を付けます"
    "（入力の形状: {shapes}）。",
    "patch_col_row": "パッチ内の画素が（列, 行, チャネル）の順になっています。この講座は（行, 列, チャネル）"
    "です（入力の形状: {shapes}）。",
    "unpatch_not_inverse": "unpatchify が正しい画素を違う場所に置いています。patchify をちょうど元に戻す"
    "必要があります（入力の形状: {shapes}）。",
    # --- 05_positional -------------------------------------------------------------------------
    "prop.shape_and_dtype": "形状と型",
    "prop.sin_cos_pairs": "(sin, cos) の組と位置 0",
    "prop.values_match": "値（周波数 1/10000^(2i/dim)）",
    "sin_cos_swapped": "sin と cos が入れ替わっています: 位置 0 は (0, 1, 0, 1, ...)、偶数列が sin、奇数列が "
    "cos です（Vaswani et al. 2017, §3.5）。",
    "sincos_concatenated": "sin と cos が連結されています（sin を全部、次に cos を全部）。論文は交互に並べます: "
    "2i 列が sin、2i+1 列が cos。",
    "first_row": "位置 0 の行は (0, 1, 0, 1, ...) になるはずです（入力: {shapes}）。",
    "cos_extra_t": "{col} 列（cos）で位置を 2 回掛けています: 位置 {pos} で {got}、期待値 {want}。組になる "
    "sin と cos は同じ角度 pos / 10000^(2i/d_model) を使います（入力: {shapes}）。",
    "not_unit": "各周波数で sin² + cos² = 1 になっていません: (sin, cos) の組が同じ角度を使っていません"
    "（入力: {shapes}）。",
    "frequency_wrong": "{col} 列の周波数が違います: 位置 {pos} で {got}、期待値 {want}。角度は "
    "pos / 10000^(2i/d_model) です（入力: {shapes}）。",
}
