"""Language identification on short sentences, mixed kk/ru text and non-Cyrillic input."""
from __future__ import annotations

import pytest

from pipeline.text.langid import char_ngrams, explain, identify, model_override, model_text, train_model

KK_SHORT = [
    "Ол келді.",
    "Оған жол беруге болмайды.",
    "Біз жеңеміз!",
    "Бұл маңызды.",
    "Жиналыс өтті.",
    "Мен келісемін.",
    "Жақсы.",
    "Бюджет бекітілді.",
    "Үкімет отырысы өтті.",
    "Ол Астанада тұрады.",
    "Барлығы 2533 әкім сайланады.",
    "Жолақшалардың енi 3 мм.",  # Latin "i" standing for "і"
]
# short Kazakh sentences without any Kazakh-specific letter: only the n-gram model knows
KK_NO_SPECIFIC_LETTERS = ["Жол салынады.", "Мектеп ашылды.", "Бала мектепке барды.", "Басты бет"]
RU_SHORT = [
    "Он пришёл.",
    "Его нельзя допускать.",
    "Это важно.",
    "Мы победим!",
    "Закон принят.",
    "Бюджет утвержден.",
    "Главная",
    "Народный контроль",
]
# Russian sentences with Kazakh names, titles and quoted Kazakh names of bodies/laws
RU_MIXED = [
    "Президент Қ.Тоқаев подписал указ.",
    "Қ.Тоқаев заявил, что реформы продолжатся.",
    "Елбасы Н.Назарбаев считает, что это важно.",
    "Встреча прошла в Ақорда.",
    "Глава государства Қасым-Жомарт Тоқаев провёл совещание.",
    "Партия «Нұр Отан» провела съезд.",
    "Сенат одобрил закон «Қазақстан Республикасының бюджеті туралы».",
    "Награжден медалью «Ерен еңбегі үшін» в 2004 году.",
]
KK_MIXED = [
    "Қ.Тоқаев Жолдау жариялады.",
    "Ол «Монтажно-наладочное управление» ЖШС директоры болып жұмыс істеді.",
    "Елбасымыз Н.Назарбаевтың «Қазақстан — 2050» стратегиясы басты құжат.",
]
OTHER = ["", "   ", "12.03.2015 17:09", "91,7%", "2533", "The president signed the law.",
         "Facebook", "https://akorda.kz", "This email address is being protected from spambots."]


@pytest.mark.parametrize("text", KK_SHORT + KK_NO_SPECIFIC_LETTERS + KK_MIXED)
def test_kazakh(text):
    assert identify(text) == "kk", explain(text)


@pytest.mark.parametrize("text", RU_SHORT + RU_MIXED)
def test_russian(text):
    assert identify(text) == "ru", explain(text)


@pytest.mark.parametrize("text", OTHER)
def test_other(text):
    assert identify(text) == "other"


@pytest.mark.parametrize("text", KK_SHORT + RU_MIXED[:5])
def test_rules_alone_handle_sentences_with_clear_evidence(text):
    """Without the n-gram model the weighted rules still get these right."""
    expected = "kk" if text in KK_SHORT else "ru"
    with model_override(None):
        assert identify(text) == expected


def test_name_letters_weigh_little():
    ev = explain("Қ.Тоқаев заявил, что реформы продолжатся.", use_model=False)
    assert ev.ru > ev.kk


def test_model_text_drops_numbers_latin_and_quoted_names():
    assert model_text("Закон «Қазақстан туралы» принят 12.03.2015 www.gov.kz") == "Закон принят"
    assert model_text("«Нұр Отан»") == "Нұр Отан"  # (almost) only quoted words: keep them
    assert model_text("«Качир ауданы білім беру бөлімі» ММ – 14;") == "ММ Качир ауданы білім беру бөлімі"
    assert char_ngrams("Ол", (1, 2)) == [" ", "о", "л", " ", " о", "ол", "л "]


def test_train_model_roundtrip(tmp_path):
    """A tiny model trains, saves as JSON, loads and decides by character n-grams."""
    texts = ["мектеп ашылды", "бала барды", "жол салынады", "закон принят", "он пришёл", "дорога построена"]
    labels = ["kk", "kk", "kk", "ru", "ru", "ru"]
    model = train_model(texts, labels, ngram_range=(1, 3), min_df=1)
    path = tmp_path / "m.json"
    model.save(path)
    loaded = type(model).load(path)
    assert loaded.weights == model.weights
    assert loaded.logodds("мектеп салынды") > 0 > loaded.logodds("закон построен")
