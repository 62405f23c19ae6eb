#!/usr/bin/env python3
"""Writes the tiny sentence-embedding model that tests the fastembed embedder offline.

Output: index-builder/tests/data/tiny-embedder/ (committed; CI only reads it, never runs this).

The model is what fastembed expects of a BERT-style ONNX export, at toy scale:
- inputs `input_ids`, `attention_mask`, `token_type_ids`: int64 [batch, seq];
- output `last_hidden_state`: float32 [batch, seq, 32], which fastembed mean-pools;
- graph: word embedding + token-type embedding, one fixed orthogonal linear layer, padding
  positions zeroed by the attention mask. No attention, no position embeddings.

Every vocabulary character has a fixed random vector (seeded), so the mean-pooled sentence vector
of two texts sharing characters point the same way and texts without shared characters are nearly
orthogonal: enough for a meaningful similarity test, nothing like a real model.

The tokenizer is BERT's (WordPiece, Chinese characters split one per token, lower-cased) over
[PAD] [UNK] [CLS] [SEP] [MASK], digits, Latin letters and a few hundred characters of enterprise
policy and finance. Unknown characters become [UNK].

Regenerate (deterministic: the same bytes every run) with
    python3 -m pip install onnx==1.23.2 numpy==2.4.6 tokenizers==0.23.3  # the versions used
    python3 scripts/make-tiny-embedder.py
"""

import json
import pathlib
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from tokenizers import Tokenizer, decoders, normalizers, pre_tokenizers, processors
from tokenizers.models import WordPiece

OUT = pathlib.Path(__file__).resolve().parent.parent / "index-builder/tests/data/tiny-embedder"
DIM = 32
SEED = 20240611
MAX_LENGTH = 512

SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]

# Characters of enterprise support policies: finance, tax, technology, industry, regions, people.
CHINESE = """
贷款贴息担保融资信用利率银行基金资本股权债券投资保险风险抵押质押额度期限还本付息
企业公司中小微型个体工商户民营国有外资合作社集团创业孵化园区
科技研发创新专利知识产权技术成果转化高新数字智能软件信息网络数据算力人工芯片电子
补贴奖励资助扶持减免退税增值所得印花费用返还兑现申报审核认定评审名单公示
税收政策条件对象标准范围内容办法通知意见实施细则管理规定暂行试点示范
制造工业产业链升级改造设备购置绿色低碳节能环保能源新材料生物医药健康
农业农村乡村振兴种植养殖粮食食品加工物流商贸消费外贸出口进口跨境电商
就业人才引进培训社保稳岗招聘毕业生高校退役军人残疾失业养老医疗住房公积金
文化旅游体育教育服务业餐饮住宿交通运输建筑房地产
省市县区街道乡镇北京上海广东浙江江苏山东四川湖北福建深圳杭州成都武汉
年月日号元万亿百千第一二三四五六七八九十两
是的在和与或及等按对于为以从到由向上下不未已可应须得将被把
有无新旧大小多少高低长短总平均最超过以上以下满足符合具备取得获得享受给予提供支持
申请受理办理审批备案登记注册变更注销许可证照营业执照
人员员工职工法人代表单位机构部门政府财政厅局委会
收入营收利润资产负债规模产值销售额纳税
"""

PUNCTUATION = list("，。、；：？！（）《》“”")


def vocabulary():
    seen = set()
    vocab = []
    for token in SPECIAL + [c for c in CHINESE if not c.isspace()] + PUNCTUATION:
        if token not in seen:
            seen.add(token)
            vocab.append(token)
    for c in "0123456789abcdefghijklmnopqrstuvwxyz":
        vocab.append(c)
    for c in "0123456789abcdefghijklmnopqrstuvwxyz":
        vocab.append("##" + c)
    return vocab


def tokenizer(vocab):
    tok = Tokenizer(WordPiece({t: i for i, t in enumerate(vocab)}, unk_token="[UNK]",
                              max_input_chars_per_word=100))
    tok.normalizer = normalizers.BertNormalizer(
        clean_text=True, handle_chinese_chars=True, strip_accents=None, lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", vocab.index("[CLS]")), ("[SEP]", vocab.index("[SEP]"))],
    )
    tok.decoder = decoders.WordPiece(prefix="##")
    tok.add_special_tokens(SPECIAL)
    return tok


def model(vocab):
    rng = np.random.default_rng(SEED)
    words = rng.standard_normal((len(vocab), DIM)).astype(np.float32)
    words[vocab.index("[PAD]")] = 0.0
    # [CLS], [SEP] are in every text and [UNK] stands for any unknown character: keep them
    # small so they do not make unrelated texts look alike.
    for t in ("[UNK]", "[CLS]", "[SEP]", "[MASK]"):
        words[vocab.index(t)] *= 0.1
    types = (0.01 * rng.standard_normal((2, DIM))).astype(np.float32)
    # An orthogonal matrix: a real layer that keeps the geometry of the embeddings.
    q, r = np.linalg.qr(rng.standard_normal((DIM, DIM)))
    linear = (q * np.sign(np.diag(r))).astype(np.float32)

    ids = helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"])
    mask = helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "seq"])
    type_ids = helper.make_tensor_value_info("token_type_ids", TensorProto.INT64, ["batch", "seq"])
    out = helper.make_tensor_value_info(
        "last_hidden_state", TensorProto.FLOAT, ["batch", "seq", DIM])
    nodes = [
        helper.make_node("Gather", ["word_embeddings", "input_ids"], ["words"], axis=0),
        helper.make_node("Gather", ["token_type_embeddings", "token_type_ids"], ["types"], axis=0),
        helper.make_node("Add", ["words", "types"], ["embedded"]),
        helper.make_node("MatMul", ["embedded", "dense"], ["hidden"]),
        helper.make_node("Cast", ["attention_mask"], ["mask_float"], to=TensorProto.FLOAT),
        helper.make_node("Unsqueeze", ["mask_float", "last_axis"], ["mask_3d"]),
        helper.make_node("Mul", ["hidden", "mask_3d"], ["last_hidden_state"]),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny_embedder",
        [ids, mask, type_ids],
        [out],
        initializer=[
            numpy_helper.from_array(words, "word_embeddings"),
            numpy_helper.from_array(types, "token_type_embeddings"),
            numpy_helper.from_array(linear, "dense"),
            numpy_helper.from_array(np.array([2], dtype=np.int64), "last_axis"),
        ],
    )
    m = helper.make_model(
        graph,
        producer_name="huiqi scripts/make-tiny-embedder.py",
        opset_imports=[helper.make_opsetid("", 13)],
    )
    m.ir_version = 8  # readable by every ONNX Runtime since 1.10
    onnx.checker.check_model(m, full_check=True)
    return m, words, types, linear


def write_json(name, value):
    text = json.dumps(value, ensure_ascii=False, indent=2) + "\n"
    (OUT / name).write_text(text, encoding="utf-8")


def reference_embedding(tok, words, types, linear, text):
    """What fastembed should compute: mean over the tokens, then unit length."""
    ids = tok.encode(text).ids
    hidden = (words[ids] + types[0]) @ linear
    v = hidden.mean(axis=0)
    return v / np.linalg.norm(v)


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    vocab = vocabulary()
    tok = tokenizer(vocab)
    tok.save(str(OUT / "tokenizer.json"), pretty=True)
    m, words, types, linear = model(vocab)
    (OUT / "model.onnx").write_bytes(m.SerializeToString(deterministic=True))
    write_json("config.json", {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "hidden_size": DIM,
        "vocab_size": len(vocab),
        "pad_token_id": vocab.index("[PAD]"),
        "max_position_embeddings": MAX_LENGTH,
        "type_vocab_size": 2,
        "_comment": "a toy model for tests, made by scripts/make-tiny-embedder.py",
    })
    special_map = {
        "unk_token": "[UNK]",
        "sep_token": "[SEP]",
        "pad_token": "[PAD]",
        "cls_token": "[CLS]",
        "mask_token": "[MASK]",
    }
    write_json("special_tokens_map.json", special_map)
    write_json("tokenizer_config.json", {
        "tokenizer_class": "BertTokenizer",
        "do_lower_case": True,
        "tokenize_chinese_chars": True,
        "strip_accents": None,
        "model_max_length": MAX_LENGTH,
        "clean_up_tokenization_spaces": True,
        **special_map,
    })

    # Self-check: the files load back and similar texts are closer than unrelated ones.
    back = Tokenizer.from_file(str(OUT / "tokenizer.json"))
    enc = back.encode("科技企业贷款ai")
    assert enc.tokens == ["[CLS]", "科", "技", "企", "业", "贷", "款", "a", "##i", "[SEP]"], enc.tokens
    onnx.checker.check_model(str(OUT / "model.onnx"), full_check=True)
    emb = {t: reference_embedding(back, words, types, linear, t)
           for t in ("科技企业贷款贴息", "科技型中小企业贷款贴息补贴", "农村养老保险缴费")}
    near = float(emb["科技企业贷款贴息"] @ emb["科技型中小企业贷款贴息补贴"])
    far = float(emb["科技企业贷款贴息"] @ emb["农村养老保险缴费"])
    assert near > 0.6 and abs(far) < 0.4, (near, far)
    size = sum(p.stat().st_size for p in OUT.iterdir())
    print(f"tiny-embedder: {len(vocab)} tokens, dim {DIM}, {size} bytes in {OUT}; "
          f"cosine near {near:.3f}, far {far:.3f}", file=sys.stderr)


if __name__ == "__main__":
    main()
