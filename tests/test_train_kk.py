"""`polclaims train kk` plumbing that needs no training run: what the character LMs learn from."""
from __future__ import annotations

import tomllib

from pipeline.config import PROJECT_ROOT
from pipeline.training import kk_stanza


def _conllu(sents: list[str]) -> str:
    out = []
    for i, s in enumerate(sents, start=1):
        out.append(f"# sent_id = {i}\n# text = {s}")
        out += [f"{j}\t{w}\t{w}\tNOUN\t_\t_\t0\troot\t_\t_" for j, w in enumerate(s.split(), start=1)]
        out.append("")
    return "\n".join(out) + "\n"


def test_character_lms_train_on_unlabelled_text_never_the_test_fold(tmp_path, monkeypatch):
    """Both directions start at once with the [charlm] settings; their text holds KazNERD,
    the Kazakh parallel files and the KTB train fold, and neither the dev nor the test fold
    (the dev fold is the LM's own dev text)."""
    cfg = tomllib.loads((PROJECT_ROOT / "configs" / "train_kk.toml").read_text(encoding="utf-8"))
    data = tmp_path / "data"
    (data / "kaznerd").mkdir(parents=True)
    for key in ("kaznerd_train", "kaznerd_eval"):
        (data / cfg["data"][key]).write_text("Астана B-GPE\nқаласы O\n\n", encoding="utf-8")
    (data / "parallel").mkdir()
    (data / "parallel" / "x-kaz-1").write_text("Үкімет жаңа бағдарлама қабылдады\nқысқа\n", encoding="utf-8")
    (data / "parallel" / "x-ru").write_text("Правительство приняло новую программу\n", encoding="utf-8")
    cfg["data"]["parallel_dir"] = "parallel"
    splits = {}
    for name, text in (("train", "оқушылар мектепке барды"), ("dev", "дев сөйлем осында"),
                       ("test", "тест сөйлемі құпия")):
        splits[name] = tmp_path / f"{name}.conllu"
        splits[name].write_text(_conllu([text]), encoding="utf-8")
    started = []

    class Done:
        returncode = 0

        def wait(self):
            return 0

    monkeypatch.setattr(kk_stanza, "_start", lambda args, log: (started.append(args) or Done(), args, log, 0.0))
    kk_stanza.train_charlm(cfg, data, splits, tmp_path / "work", tmp_path / "out")
    text = (tmp_path / "work" / "charlm" / "train" / "kk.txt").read_text(encoding="utf-8")
    assert "Астана қаласы" in text and "Үкімет жаңа бағдарлама қабылдады" in text
    assert "оқушылар мектепке барды" in text
    assert "құпия" not in text and "дев" not in text and "Правительство" not in text and "қысқа" not in text
    assert (tmp_path / "work" / "charlm" / "dev.txt").read_text(encoding="utf-8").strip() == "дев сөйлем осында"
    assert [a[a.index("--direction") + 1] for a in started] == ["forward", "backward"]
    for args in started:
        assert args[args.index("--char_hidden_dim") + 1] == str(cfg["charlm"]["char_hidden_dim"])
        assert str(tmp_path / "out") in args


def test_components_read_the_character_lms_only_when_configured(tmp_path):
    assert kk_stanza._charlm_args({"max_steps": 10}, tmp_path) == []
    opts = {"charlm": True, "max_steps": 10}
    args = kk_stanza._charlm_args(opts, tmp_path)
    assert opts == {"max_steps": 10}  # what is left goes to Stanza as its own options
    assert args[args.index("--charlm_forward_file") + 1] == str(tmp_path / "kk_charlm_forward.pt")


def test_tag_corrector_step_never_learns_from_the_test_fold(tmp_path):
    """`--steps tag_corrector` fits with the [tag_corrector] settings (train fold, plus dev with
    `train_on_dev`) and writes a file the pipeline loads; test words stay out of its lexicon."""
    from pipeline.nlp.tag_corrector import TagCorrector

    cfg = tomllib.loads((PROJECT_ROOT / "configs" / "train_kk.toml").read_text(encoding="utf-8"))
    splits = {}
    for name, text in (("train", "оқушылар мектепке барды"), ("dev", "дев сөйлем осында"),
                       ("test", "тест сөйлемі құпия")):
        splits[name] = tmp_path / f"{name}.conllu"
        splits[name].write_text(_conllu([text]), encoding="utf-8")
    # one word with a feature so that a classifier has two classes to learn
    splits["train"].write_text(splits["train"].read_text(encoding="utf-8").replace(
        "барды\tбарды\tNOUN\t_\t_", "барды\tбар\tVERB\tv\tVoice=Pass"), encoding="utf-8")
    out = kk_stanza.train_tag_corrector(cfg, splits, tmp_path)
    tc = TagCorrector.load(out)
    assert tc.features == cfg["tag_corrector"]["features"]
    dev = {"дев", "сөйлем", "осында"} if cfg["tag_corrector"].get("train_on_dev") else set()
    assert set(tc.lexicon_) == {"оқушылар", "мектепке", "барды"} | dev
    assert tc.lookup("барды") == ("VERB", "v", "Voice=Pass")
    assert "Voice" in tc.models_
