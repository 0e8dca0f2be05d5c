"""Promise threads: one sentence printed twice (numbers once in digits, once in words) is proposed
whatever its verb; clauses about their own documents are kept apart; document numbers are read."""
from __future__ import annotations

from pipeline.threads.link import (ThreadClaim, candidate_pairs, document_clause, document_numbers, near_duplicate,
                                   normalised_text, prepare, reprint)


def kk(cid, sid, lemma, target, sentence, type_="obligation") -> ThreadClaim:
    return ThreadClaim(cid, sid, "kk", type_, lemma, None, target, sentence, "environment")


def test_number_words_read_as_numbers_in_both_languages():
    assert normalised_text("шығымдылығы алпыс пайыздан кем болмауы тиіс", "kk") == "шығымдылығы 60 % кем болмауы тиіс"
    assert normalised_text("қосымша жүз миллиард теңге", "kk") == "қосымша 100000000000 теңге"
    assert normalised_text("жеті жүз он төрт үй", "kk") == normalised_text("714 үй", "kk")
    assert normalised_text("бес мың грант", "kk") == normalised_text("5 мың грант", "kk") == "5000 грант"
    assert normalised_text("600 млрд. теңгеге", "kk") == "600000000000 теңгеге"
    assert normalised_text("для реализации пяти реформ", "ru") == "для реализации 5 реформ"
    assert normalised_text("сто миллиардов тенге", "ru") == normalised_text("100 млрд тенге", "ru")
    # a language without [numbers] is only casefolded and split
    assert normalised_text("Five Schools", "en") == "five schools"


def test_a_reprint_with_a_light_verb_is_proposed_and_a_different_sentence_is_not():
    a = kk("a#0", "a", "болу", "орман екпелерінің шығымдылығы",
           "Норматив бойынша біздің Ақтөбе облысына орман екпелерінің шығымдылығы алпыс пайыздан кем болмауы тиіс.")
    b = kk("b#0", "b", "болу", "орман екпелерінің шығымдылығы",
           "Норматив бойынша біздің Ақтөбе облысына орман екпелерінің шығымдылығы 60 пайыздан кем болмауы тиіс.")
    c = kk("c#0", "c", "болу", "орман екпелерінің шығымдылығы",
           "Биыл облыста орман екпелерінің шығымдылығы туралы есеп дайындалды, ол алдағы жылы жарияланады.")
    prepared, _ = prepare([a, b, c])
    assert not prepared[0].keys                       # a light verb: no lemma key, the verb channel proposes nothing
    assert near_duplicate(prepared[0], prepared[1]) > 0.9
    assert near_duplicate(prepared[0], prepared[2]) < 0.5
    assert set(candidate_pairs(prepared)) == {(0, 1)}
    assert reprint(prepared[0], prepared[1]) and not reprint(prepared[0], prepared[2])


def test_clauses_about_their_own_documents_are_not_proposed_as_reprints_nor_scored():
    from pipeline.threads.model import allowed

    text = "Осы қаулының орындалуын бақылау облыс әкімінің орынбасары А.А. Өрсариевке жүктелсін."
    a = kk("a#0", "a", "жүктеу", "облыс әкімінің орынбасары А.А. Өрсариевке", text, "decision")
    b = kk("b#0", "b", "жүктеу", "облыс әкімінің орынбасары А.А. Өрсариевке", text, "decision")
    assert document_clause(text, None, "kk")
    assert document_clause("Контроль за исполнением настоящего постановления возложить на заместителя акима.", None, "ru")
    assert document_clause("2. Обеспечить.", "государственную регистрацию настоящего постановления", "ru")
    assert not document_clause("Акимат построит 100 школ.", "100 школ", "ru")
    prepared, _ = prepare([a, b])
    assert prepared[0].doc_clause and near_duplicate(prepared[0], prepared[1]) == 1.0
    assert not reprint(prepared[0], prepared[1])
    assert not allowed(prepared[0], prepared[1], need_keys=False)


def test_document_numbers_of_a_target():
    assert document_numbers("№ 18/2 қаулысына өзгерістер") == {"18/2"}
    assert document_numbers("постановление акимата от 5 мая 2014 года №244/7.") == {"244/7"}
    assert document_numbers("100 школ") == set() and document_numbers(None) == set()
