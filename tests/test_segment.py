"""Segmentation: exact offsets, known sentence boundaries, language and boilerplate flags."""
from __future__ import annotations

import json

import pytest

from pipeline.config import shared_data_dir
from pipeline.text.segment import boilerplate_rule, paragraph_spans, segment, sentence_spans, sentences

SEED = shared_data_dir() / "seed" / "decentralization-statement.txt"
SEED_GOLD = shared_data_dir() / "gold" / "seed.gold.jsonl"
needs_seed = pytest.mark.skipif(
    not SEED.exists(), reason=f"shared data not found at {SEED} (set POLCLAIMS_SHARED_DATA)")


def check_offsets(text, sents):
    for s in sents:
        assert text[s.start:s.end] == s.text
        assert s.text == s.text.strip() and s.text
    assert [s.index for s in sents] == list(range(len(sents)))
    assert all(a.end <= b.start for a, b in zip(sents, sents[1:]))


@pytest.fixture(scope="module")
def seed():
    if not SEED.exists():
        pytest.skip(f"shared data not found at {SEED} (set POLCLAIMS_SHARED_DATA)")
    text = SEED.read_text(encoding="utf-8")
    return text, sentences("seed", text)


@needs_seed
def test_seed_offsets_slice_back_exactly(seed):
    text, sents = seed
    check_offsets(text, sents)
    paras = segment("seed", text)
    for p in paras:
        assert text[p.start:p.end] == text[p.start:p.end].strip()
        assert all(p.start <= s.start and s.end <= p.end for s in p.sentences)


@needs_seed
def test_seed_known_boundaries(seed):
    _, sents = seed
    texts = [s.text for s in sents]
    assert "Мен Жергілікті өзін-өзі басқаруды дамыту тұжырымдамасын бекіттім." in texts
    assert "Бұл барлық деңгейдегі әкімдердің жалпы санының 91,7%-ы!" in texts
    assert "Это 91,7% от общего числа акимов всех уровней!" in texts
    elbasy = [t for t in texts if t.startswith("Елбасы Н.Назарбаев считает")]
    assert len(elbasy) == 1 and elbasy[0].endswith("реализацию программы.")
    assert any(t.endswith("деп санайды Президентіміз Қ.Тоқаев.") for t in texts)
    assert not any(t in ("Н.", "Қ.") or t.endswith(" Н.") for t in texts)


@needs_seed
def test_seed_languages_and_boilerplate(seed):
    text, sents = seed
    ru_start = text.index("Мы должны грамотно")
    by_text = {s.text: s for s in sents}
    for bp in ("Медиаон ақпарат", "281 сөз", "Медиаон информация", "Добавить комментарий",
               "Ваш адрес email не будет опубликован."):
        assert by_text[bp].boilerplate, bp
        assert by_text[bp].boilerplate_rule
    real = [s for s in sents if not s.boilerplate]
    assert len(real) == 40
    for s in real:
        assert s.lang == ("kk" if s.start < ru_start else "ru"), s.text


@needs_seed
def test_seed_real_sentences_match_gold(seed):
    if not SEED_GOLD.exists():
        pytest.skip(f"{SEED_GOLD} not found")
    _, sents = seed
    gold = [json.loads(line) for line in SEED_GOLD.read_text(encoding="utf-8").splitlines() if line.strip()]
    real = [s for s in sents if not s.boilerplate]
    assert [s.text for s in real] == [g["text"] for g in gold]
    assert [s.lang for s in real] == [g["lang"] for g in gold]


def test_paragraphs_blank_lines_single_lines_and_wraps():
    text = "Басты бет\nЖаңалықтар\n\nБірінші жол\nжалғасы осында. Екінші сөйлем.\n\n\n  Соңғы.  \n"
    spans = paragraph_spans(text)
    assert [text[a:b] for a, b in spans] == [
        "Басты бет", "Жаңалықтар", "Бірінші жол\nжалғасы осында. Екінші сөйлем.", "Соңғы."]
    sents = sentences("x", text)
    check_offsets(text, sents)
    assert [s.paragraph for s in sents] == [0, 1, 2, 2, 3]


def test_crlf_and_nbsp_offsets():
    text = "\ufeffБұл мәтін.\r\n\r\nҚоғам\u00a0 және\u00a0 азаматтар қатысуы қажет.\u00a0\r\nОл екінші жол.\r\n"
    sents = sentences("x", text)
    check_offsets(text, sents)
    assert [s.text for s in sents] == ["Бұл мәтін.", "Қоғам\u00a0 және\u00a0 азаматтар қатысуы қажет.", "Ол екінші жол."]


@pytest.mark.parametrize("text,expected", [
    ("Президент Қ. Тоқаев мәлімдеді. Бұл маңызды.", ["Президент Қ. Тоқаев мәлімдеді.", "Бұл маңызды."]),
    ("Елбасы Н.Ә. Назарбаев айтты. Ол келісті.", ["Елбасы Н.Ә. Назарбаев айтты.", "Ол келісті."]),
    ("Бюджет составил 5 млрд. рублей. Хорошо.", ["Бюджет составил 5 млрд. рублей.", "Хорошо."]),
    ("Мектептер, ауруханалар т.б. салынды. Жақсы.", ["Мектептер, ауруханалар т.б. салынды.", "Жақсы."]),
    ("Речь о регионах, т.е. об областях. Хорошо.", ["Речь о регионах, т.е. об областях.", "Хорошо."]),
    ("Ол «Біз жеңеміз!» деді. Жақсы.", ["Ол «Біз жеңеміз!» деді.", "Жақсы."]),
    ("Он сказал: «Мы победим». Затем ушёл.", ["Он сказал: «Мы победим».", "Затем ушёл."]),
    ("Жиналыс 2011 ж. 18 мамырда өтті. Жақсы.", ["Жиналыс 2011 ж. 18 мамырда өтті.", "Жақсы."]),
    ("Мекенжай: Павлодар қ., Ак. Сәтбаев көшесі, 49. Келіңіз.",
     ["Мекенжай: Павлодар қ., Ак. Сәтбаев көшесі, 49.", "Келіңіз."]),
    ("1. Атырау қаласы 2. Жылыой ауданы 3. Мақат ауданы",
     ["1. Атырау қаласы", "2. Жылыой ауданы", "3. Мақат ауданы"]),
])
def test_sentence_boundaries(text, expected):
    sents = sentences("x", text)
    check_offsets(text, sents)
    assert [s.text for s in sents] == expected


@pytest.mark.parametrize("line,rule", [
    ("Медиаон ақпарат", "kk:media_credit"),
    ("Медиаон информация", "ru:media_credit"),
    ("281 сөз", "kk:word_count"),
    ("Добавить комментарий", "ru:comment_add"),
    ("Ваш адрес email не будет опубликован.", "ru:email_notice"),
    ("Обязательные поля помечены *", "ru:required_fields"),
    ("12.03.2015 17:09", "common:date_time"),
    ("Өзгертілді: 06.01.2015 10:42 Орналастырылды: 06.01.2015 10:42", "kk:edit_stamp"),
    ("Размещено: 02.12.2014 15:52 Изменено: 26.02.2015 15:55", "ru:edit_stamp"),
    ("Басты бет", "kk:home"),
    ("Главная", "ru:home"),
    ("Главная » Пресс-служба » Новости 01 сентября 2015", "common:breadcrumb_chain"),
    ("© 2015 Все права защищены.", "common:copyright_sign"),
    ("Поделиться", "ru:share"),
    ("Facebook Twitter VK", "common:share_buttons"),
    ("This email address is being protected from spambots.", "common:spam_protected"),
    ("Байланыс телефоны: +7 (7172) 24-93-72", "kk:contacts"),
    ("03.07.2015 Просмотров: 428", "ru:views"),
    ("Жаңалықтар", "nav_short_line"),
    ("Народный контроль", "nav_short_line"),
])
def test_boilerplate_lines(line, rule):
    sents = sentences("x", line)
    assert len(sents) == 1
    assert sents[0].boilerplate and sents[0].boilerplate_rule == rule


@pytest.mark.parametrize("line", [
    "Мы должны грамотно проводить децентрализацию управления.",
    "Оған жол беруге болмайды.",
    "Президент Жолдау жариялады",
    "Тоқаев подписал закон",
    "Его нельзя допускать.",
    "Барлығы 2533 әкім сайланады.",
    # furniture glued to a long real sentence stays real
    "Главная » Имидж государственной службы 22 января 2014 Приказ Председателя Агентства по "
    "делам государственной службы об утверждении правил оценки деятельности административных "
    "государственных служащих корпуса Б был подписан и вступил в силу с первого числа.",
])
def test_real_lines_are_not_boilerplate(line):
    assert [s.boilerplate for s in sentences("x", line)] == [False]


def test_nav_rule_only_for_a_whole_line():
    assert boilerplate_rule("Жаңалықтар", whole_paragraph=True) == "nav_short_line"
    assert boilerplate_rule("Жаңалықтар", whole_paragraph=False) is None
    text = "Негізгі жаңалықтар. Мен келдім."
    assert not any(s.boilerplate for s in sentences("x", text))


def test_empty_text_has_no_paragraphs():
    assert segment("x", "") == []
    assert segment("x", "  \n\n \t") == []


def test_run_on_line_is_cut_into_bounded_pieces():
    """A scraped catalogue line of thousands of words without a full stop must not reach the
    parsers as one sentence (their memory grows with its square); pieces keep exact offsets and
    prefer a cut after ';' over a cut after ','."""
    from pipeline.text.segment import _rules

    limit = _rules().max_words
    item = "Аттестация лабораторий по экспертизе качества семян (Стандарт, Регламент, Паспорт); "
    text = "Государственные услуги: " + item * 400
    spans = sentence_spans(text)
    assert len(spans) > 1
    assert spans[0][0] == 0 and spans[-1][1] == len(text.rstrip())
    for (a, b), (c, _) in zip(spans, spans[1:]):
        assert text[b:c].strip() == ""  # nothing lost between pieces
    for a, b in spans:
        assert len(text[a:b].split()) <= limit
        assert text[a:b] == text[a:b].strip()
    assert all(text[a:b].endswith(";") for a, b in spans[:-1])


def test_long_real_sentence_under_the_limit_is_kept_whole():
    from pipeline.text.segment import _rules

    words = ["сөз,"] * (_rules().max_words - 1) + ["болады."]
    text = " ".join(words)
    assert sentence_spans(text) == [(0, len(text))]
