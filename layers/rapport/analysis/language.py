"""Guessing the language of a short reply from the words it uses.

Collections replies are a few words long, which defeats character n-gram models; function words and
the vocabulary of paying are better evidence. English and Afrikaans are told apart with weighted
word lists; isiZulu, isiXhosa and Sesotho are recognised by a handful of very common words each.
A reply without letters (an emoji, a number) is "und". A reply with letters but no evidence is the
caller's hint, or English, the language most South African debtors write to a lender in.
"""

from __future__ import annotations

from rapport.analysis.text import clean, has_letters, words

UNDETERMINED = "und"


def _vocabulary(words_separated_by_spaces: str) -> list[str]:
    return words_separated_by_spaces.split()


# Words that are Afrikaans and not English. Weight 2 for words no English reply would contain.
_AFRIKAANS: dict[str, float] = {
    word: 2.0
    for word in _vocabulary(
        "ek sal nie betaal betaling inbetaal oorbetaal asseblief dankie baie maand maande vandag volgende "
        "rekening skuld nommer verkeerde verkeerd kontak hoeveel klaar bewys werk verloor siek hospitaal "
        "tref reeling paaiemente paaiement ons jy julle het gaan nou wanneer kry salaris bel skakel los "
        "weer moenie reg gemaak hier onder skuldberading skuldberader bekostig maandag dinsdag woensdag "
        "donderdag vrydag saterdag sondag januarie februarie maart mei junie julie augustus oktober "
        "desember dit wat hoekom lekker totsiens goeie oggend middag asb tog maar ook want sodra vir "
        "'n geld kan einde begin week naweek oormore vanaand vanmiddag môre more iemand praat kos "
        "honger oorlede begrafnis dood man vrou kinders kind pa ma ouma oupa werkloos afgedank boodskap "
        "boodskappe stuur verwyder hou op asseblief seker reeds eers net gee tyd sukkel sorg kyk "
        "balans staat bedrag bedrog gekanselleer nooit niks iets alles groete mevrou meneer ja-nee "
        "betaaldag ontvang goed orde stem saam sien sodat indien omdat kliniek dokter siekte tjek"
    )
}
_AFRIKAANS.update(
    {
        "die": 1.0,
        "en": 1.0,
        "is": 0.3,
        "my": 0.3,
        "van": 0.5,
        "op": 1.0,
        "aan": 1.5,
        "om": 1.0,
        "so": 0.2,
        "met": 0.5,
        "in": 0.2,
        "u": 0.5,
        "more": 1.0,
    }
)

_ENGLISH: dict[str, float] = {
    word: 1.5
    for word in _vocabulary(
        "i will pay the to you me please thanks thank can not it on at this that and for of am paid when "
        "what how much owe month week tomorrow today stop number account balance call phone yes sorry "
        "money job sick would like have has had be been was were they them he she we our your please "
        "next friday monday tuesday wednesday thursday saturday sunday end rest amount payment plan "
        "instalments afford cannot do does did wrong person know who why where send statement "
        "already settle settled full lost work working hospital died passed away debt review "
        "counsellor contact again remove list only email messages message sms unsubscribe speak "
        "talk someone consultant back received noted okay ok sharp cool great good fine sure got "
        "will going help time some any all now then there here from with about just still over "
        "every smaller split option arrangement order set up monthly weekly off half get salary "
        "payday transfer eft proof reference made via check system store instead link anything "
        "court interest agree charged never opened used fraud harassing not interested"
    )
}
_ENGLISH.update({"my": 0.3, "is": 0.3, "in": 0.3, "so": 0.2, "die": 0.3, "more": 0.5})

_OTHER_LANGUAGES: dict[str, frozenset[str]] = {
    "zu": frozenset(
        _vocabulary(
            "ngizokhokha ngizobhadala ngiyabonga angikwazi imali kusasa namhlanje sawubona yebo cha ngicela "
            "ukukhokha umsebenzi ngiyaxolisa ngiyagula angisebenzi ngikhokhile ngizokwenza ngifuna "
            "ngiyacela inyanga ngolwesihlanu baba mama ngempela kodwa"
        )
    ),
    "xh": frozenset(
        _vocabulary(
            "ndiza ndizakuhlawula enkosi andikwazi ndicela ngomso ndiyabulela andisebenzi ndihlawule "
            "ndiyaxolisa molo ewe hayi imali kodwa ndifuna"
        )
    ),
    "st": frozenset(
        _vocabulary(
            "ke tla lefa kea leboha leboga tjhelete chelete madi hosane kajeno ke kopa ha ke khone "
            "patala ke tlo dumela"
        )
    ),
}


def detect_language(text: str, hint: str | None = None) -> str:
    """ISO 639-1 code of the reply's language ('en', 'af', 'zu', 'xh', 'st') or 'und'."""
    if not has_letters(text):
        return UNDETERMINED
    tokens = words(clean(text).lower())
    other_scores = {
        code: sum(1 for token in tokens if token in vocabulary)
        for code, vocabulary in _OTHER_LANGUAGES.items()
    }
    afrikaans = sum(_AFRIKAANS.get(token, 0.0) for token in tokens)
    english = sum(_ENGLISH.get(token, 0.0) for token in tokens)
    best_other, other = max(other_scores.items(), key=lambda item: item[1])
    if other >= 2 or (other >= 1 and afrikaans < 1 and english < 1):
        return best_other
    if afrikaans > english:
        return "af"
    if english > afrikaans:
        return "en"
    if hint:
        return hint.split("-")[0].lower()
    return "en"
