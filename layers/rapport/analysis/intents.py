"""Which of the eleven collections intents a reply expresses, and which one an agent must act on.

Replies often say several things at once ("I lost my job, can I pay R100 a month?"). Every intent
whose cues appear is a candidate; the winner is the candidate a careful collections agent would act
on first, in this order:

1. an explicit opt-out ("STOP", "unsubscribe", "do not contact me", "remove my number"): the
   debtor's right to object is honoured before anything else (vulnerability is still flagged);
2. hardship with a sign of vulnerability (illness, bereavement, job loss, debt review, distress);
3. a dispute (not my account, wrong amount, fraud, cancelled);
4. a wrong person or wrong number (a third party must not hear about the debt);
5. a claim to have paid already;
6. a softer request to stop messaging ("stop sending me these");
7. hardship without a vulnerability sign ("I can't afford it", "give me time");
8. a request for a payment plan (instalments, "R200 a month", "half now and the rest later");
9. a promise to pay;
10. a refusal; 11. a request for a call; 12. a question about the balance or how to pay;
13. an acknowledgement.

Weak cues (an aside such as "never received", a bare "who is this?") count only when no ordinary
cue of any intent is present. The caller decides what counts as vulnerability here: the local
analyser leaves out "lives on a grant", which calls for care but is not by itself a hardship report.

NOTE: the cues are hand-written lists. On fresh replies written after the rules they scored 0.75-0.83
intent accuracy at first sight (see tests/unit/analysis/test_analysis_phrasings.py); unseen wording
falls through to a low-confidence answer. Once a few thousand agent-labelled replies exist, a
trained classifier behind the same `ReplyAnalyser` port should replace this ranking of cues.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import IntEnum

from rapport.models.enums import Intent


class _Rank(IntEnum):
    OPT_OUT_EXPLICIT = 1
    HARDSHIP_VULNERABLE = 2
    DISPUTE = 3
    WRONG_PERSON = 4
    PAID_ALREADY = 5
    OPT_OUT_SOFT = 6
    HARDSHIP = 7
    PAYMENT_PLAN = 8
    PROMISE = 9
    REFUSAL = 10
    CALLBACK = 11
    BALANCE_QUERY = 12
    ACKNOWLEDGE = 13


_INTENT_OF_RANK = {
    _Rank.OPT_OUT_EXPLICIT: Intent.OPT_OUT,
    _Rank.HARDSHIP_VULNERABLE: Intent.HARDSHIP,
    _Rank.DISPUTE: Intent.DISPUTE,
    _Rank.WRONG_PERSON: Intent.WRONG_PERSON,
    _Rank.PAID_ALREADY: Intent.PAID_ALREADY,
    _Rank.OPT_OUT_SOFT: Intent.OPT_OUT,
    _Rank.HARDSHIP: Intent.HARDSHIP,
    _Rank.PAYMENT_PLAN: Intent.PAYMENT_PLAN_REQUEST,
    _Rank.PROMISE: Intent.PROMISE_TO_PAY,
    _Rank.REFUSAL: Intent.REFUSAL,
    _Rank.CALLBACK: Intent.CALLBACK_REQUEST,
    _Rank.BALANCE_QUERY: Intent.BALANCE_QUERY,
    _Rank.ACKNOWLEDGE: Intent.ACKNOWLEDGE,
}

_NOT = r"(?:(?!not\b|never\b|nie\b|nooit\b|be able\b|afford\b|barely\b|hardly\b)[\w']+\s+)"
_PAY_VERB = (
    r"(?:pay|paying|pay in|settle|settling|clear|transfer|deposit|eft|make (?:a |the |my |"
    r"another )?payments?|"
    r"make payment|do (?:the |my )?payment|do (?:it|that|so|r ?\d|\d)|sort(?: it| this| that| everything|"
    r" dit)?(?: out)?\b|regmaak|afhandel|"
    r"send(?= (?:the |you |u |it |my )?(?:money|payment|it|r ?\d|\d|through|via|now|today|tomorrow))|"
    r"betaal|inbetaal|oorbetaal|vereffen|oorplaas|stuur|pay up|pay back|repay)"
)
_FUTURE = (
    r"(?:will|shall|going to|gonna|sal|gaan|wil|want to|plan to|promise to|intend to|would like to|"
    r"try to|trying to|hope to|planning to|about to|ready to|(?:can|could|kan)(?!\s+(?:i|we|ek|ons|you|u|"
    r"someone|somebody|iemand|julle)\b))"
)
_PAST_CONTEXT = re.compile(
    r"(?:until|till|once|when|before|after|sodra|totdat|wanneer)\s+(?:\w+\s+){0,2}$|"
    r"\b(?:salary|salaries|wages?|grant|sassa|bonus|pension|income)\s+(?:is\s+|gets\s+|was\s+|will be\s+)?$"
)
_CONDITIONAL_BEFORE = re.compile(
    r"\b(?:if|what if|happens if|unless|indien|as)\s+(?:i\s+|we\s+|ek\s+)?(?:\w+\s+)?$"
)
_NEGATION_BEFORE = re.compile(
    r"\b(?:not|cannot|never|nie|nooit|no|if (?:i|we)|indien ek|as ek)\s+(?:\w+\s+)?$"
)
# "I'm not Thabo", "This isn't Sipho": read on the text with its capitals, since a name is the cue.
_NOT_THIS_PERSON = re.compile(
    r"(?i:\b(?:i'?m not|i am not|this is not|this isn'?t|it'?s not|its not|ek is nie|dit is nie))\s+"
    r"(?!(?:Sure|Interested|Paying|Able|Working|Going|Happy|Ok|Okay|Mine|You|Me|My|Yours|Fair|Right|Correct|"
    r"True|"
    r"Possible|The|A|An|In|At|On|Aware|Responsible|Liable|Well|Sick|Ill|"
    r"Employed)\b)[A-Z][a-z]{2,}\b(?!\s+(?!nie\b)[a-z])"
)


@dataclass(frozen=True, slots=True)
class _Cue:
    rank: _Rank
    pattern: re.Pattern[str]
    weak: bool = False
    unless_before: re.Pattern[str] | None = None


def _cue(
    rank: _Rank, pattern: str, *, weak: bool = False, unless_before: re.Pattern[str] | None = None
) -> _Cue:
    return _Cue(rank=rank, pattern=re.compile(pattern), weak=weak, unless_before=unless_before)


_CUES: tuple[_Cue, ...] = (
    _cue(
        _Rank.OPT_OUT_EXPLICIT,
        r"^(?:please\s+)?(?:stop|stopp)(?: (?:all|the|these|your|it))?(?: (?:messages|sms|smses|texts|"
        r"whatsapps|msgs|spam|calls|emails))?(?: please| asseblief| now)?\W*$|"
        r"^(?:please\s+)?(?:unsubscribe|opt out|optout|opt-out|end|quit|cancel|remove|remove me)\W*$|"
        r"^(?:stop|unsubscribe|opt out)\s*[.!,;]",
    ),
    _cue(
        _Rank.OPT_OUT_EXPLICIT,
        r"\b(?:unsubscribe|opt(?:-| )?out|remove (?:me|my (?:number|details|name|contact\w*|cell\w*)|"
        r"this number)|"
        r"(?:do not|never) (?:ever )?(?:contact|message|sms|text|call|phone|email|whatsapp|send) "
        r"(?:me|this number|us|to this number)|no more (?:sms|smses|messages|texts|calls|emails|whatsapps)|"
        r"only (?:email|sms|whatsapp|call|text|write to) me|(?:email|sms|whatsapp) me only|"
        r"(?:by|via) email only|moenie (?:my |vir my )?(?:weer )?(?:kontak|bel|sms|skakel|boodskappe)|"
        r"verwyder my (?:nommer|besonderhede|naam)|geen (?:sms'e|smse|sms|boodskappe) meer|"
        r"hou op (?:om )?(?:my )?(?:te )?(?:sms|bel|kontak|boodskappe))\b",
    ),
    _cue(
        _Rank.DISPUTE,
        r"\b(?:not my (?:account|debt|loan|contract|card|policy|signature)|(?:is|was) not mine|"
        r"never (?:opened|took|applied|signed|had|owned|borrowed|bought|ordered|took out|opened anything)|"
        r"dispute\w*|fraud\w*|identity theft|stolen identity|stole my (?:id|identity)|"
        r"used my (?:id|identity|details|name)|(?:amount|balance|figure|statement|interest|total) "
        r"(?:is |was |you have )?(?:wrong|incorrect|not correct|inflated|too high)|wrong amount|"
        r"incorrect (?:amount|balance)|is incorrect|not correct|overcharg\w*|charged (?:me )?(?:twice|"
        r"double)|"
        r"double charged|do not agree|disagree|(?:was|been|already|i|we|it is|is) cancel+ed|cancel+ation|"
        r"why am i (?:being |still )?(?:charged|billed)|still (?:being )?(?:charged|billed)|"
        r"(?:send|show|give) me proof|want proof|need proof|proof (?:of|that) (?:what )?i owe|"
        r"prove (?:it|that|i owe)|do not owe|(?:owe|owe you|owe u) nothing|nothing to do with me|"
        r"nie my (?:rekening|skuld|lening|kontrak) nie|nie myne nie|bedrog|ek skuld (?:julle |jou |u )?niks|"
        r"stem nie saam nie|nooit (?:oopgemaak|geneem|aansoek)|gekanselleer|verkeerde bedrag|"
        r"bedrag is verkeerd|hacked|written off|prescribed|prescription|not what i (?:agreed|signed))\b",
    ),
    _cue(_Rank.DISPUTE, r"\b(?:never received|scam)\b", weak=True),
    _cue(
        _Rank.WRONG_PERSON,
        r"\b(?:wrong (?:number|person|guy|lady|man|woman|contact|details|no|nommer|persoon)|"
        r"not (?:the|this) person|do not know (?:this|that|any|the|who|him|her|a|anyone|anybody)\b|"
        r"no (?:one|body) (?:by|with|called) (?:that|this)|nobody (?:by|called) that|"
        r"(?:does not|no longer|not) (?:use|own|have) this number|not (?:his|her) number|"
        r"this is not (?:his|her)|you have the wrong|not me you are looking for|"
        r"verkeerde (?:nommer|persoon|mens)|ken nie (?:so )?(?:iemand|die persoon|hom|haar)|"
        r"ek ken (?:nie|geen)|nie (?:sy|haar) nommer nie|not the account ?holder|not the (?:owner|client|"
        r"customer)|"
        r"nie die rekeninghouer nie)\b",
    ),
    _cue(_Rank.WRONG_PERSON, r"(?:\bwho is (?:this|that)\b|\bwie is dit\b)", weak=True),
    _cue(
        _Rank.PAID_ALREADY,
        r"\b(?:i|we|ek|ons|have|had|already|just|has been|have been|was|were|it is|it has been|is)\s+"
        r"(?:already\s+|just\s+|also\s+|fully\s+)?(?:paid|settled|made (?:the |a )?payment|made payment|"
        r"transferred|deposited|cleared it|done the payment|did the payment|did pay|did eft)\b",
        unless_before=_PAST_CONTEXT,
    ),
    _cue(
        _Rank.PAID_ALREADY,
        r"(?<!get )(?<!gets )(?<!got )(?<!be )(?<!being )(?<!getting )\bpaid\b(?= (?:already|in full|it|this|"
        r"that|the|on|via|by|with|r ?\d|\d|yesterday|last|this morning|earlier|everything|off|up|cash))|"
        r"^(?:already )?paid\b|(?<!get )(?<!gets )(?<!got )(?<!be )(?<!being )(?<!getting )\bpaid\W*$",
        unless_before=_PAST_CONTEXT,
    ),
    _cue(
        _Rank.PAID_ALREADY,
        r"\b(?:payment (?:was|has been|is|went) (?:made|done|sent|processed|through|off)|"
        r"(?:debit order|stop order|payment|money) (?:went|has gone|has been|was) (?:off|through|deducted|"
        r"taken)|"
        r"went off (?:already|yesterday|today|on)|proof of payment|\bpop\b|(?:sent|attached|here is) (?:the |"
        r"my )?proof|"
        r"should reflect|will reflect|(?:het|is) (?:klaar |reeds |al )?(?:betaal|inbetaal|oorbetaal)|"
        r"betaling is gemaak|klaar betaal|reeds betaal|bewys van betaling|already been paid)\b",
    ),
    _cue(
        _Rank.OPT_OUT_SOFT,
        r"\b(?:stop (?:sending|messaging|texting|contacting|calling|phoning|spamming|sms|smsing|"
        r"these messages|"
        r"the messages|bothering)|enough messages)\b",
        unless_before=re.compile(r"\b(?:until|till|unless|if|before) (?:you )?$"),
    ),
    _cue(
        _Rank.HARDSHIP,
        r"\b(?:cannot afford|can not afford|not afford|unable to pay|"
        r"cannot pay(?! (?:it |this |the )?(?:all|everything|in full|the full|at once|in one|(?:the )?whole|"
        r"this month|now|today|right now|at the moment|yet|this week|until|till|before))|"
        r"not able to pay|will not be able to pay|no money|have no money|do not have (?:the |any )?money|"
        r"have nothing|broke|struggling|battling|financial(?:ly)? (?:difficult\w*|trouble|problems|strain|"
        r"hardship|stress)|tough (?:time|times)|hard times|money is tight|things are tight|tight this month|"
        r"hardship|give me (?:some |more )?time|need (?:some |more )?time|more time|"
        r"short (?:of|on) (?:money|cash)|kan nie betaal nie|kan dit nie bekostig|kan nie bekostig|geen geld|"
        r"nie geld nie|sukkel|swaar|gee my (?:asseblief )?(?:nog )?tyd|nog tyd)\b",
    ),
    _cue(
        _Rank.HARDSHIP,
        r"\bcannot pay (?:it |this |anything )?(?:this month|now|today|right now|at the moment|yet|"
        r"this week)\b",
        weak=True,
    ),
    _cue(
        _Rank.PAYMENT_PLAN,
        r"\b(?:instal+ments?|paaiemente?|payment (?:plan|arrangement)|arrangements?|"
        r"arrange (?:a |an )?(?:payment|plan|something|to pay)|arranged (?:with|to pay)|reeling|ooreenkoms|"
        r"betalingsplan|afbetaal|afbetaling|split|smaller amounts|small amounts|bit by bit|little by little|"
        r"part payments?|partial payments?|in parts|stukkie vir stukkie|"
        r"pay (?:it |this |the balance |the debt )?off (?:in|over|slowly|bit|monthly|weekly|with)|"
        r"(?:set up|setup|arrange|sign|put me on|want|like|apply for|start|open) (?:a |an )?(?:debit|"
        r"stop) order|"
        r"(?:debit|stop) order (?:for|of)|"
        r"all at once|at once|in one go|lump sum|not the full amount|(?:over|for) (?:\d+|two|three|four|five|"
        r"six|"
        r"twelve|the next \w+) (?:months|weeks|maande|weke)|"
        r"(?:pay|paying|afford|do|give|offer|betaal|bekostig|r ?\d[\d ,.]*k?|\d+k?)\s+(?:[\w']+\s+){0,2}?"
        r"(?:(?:per|a|each|every|elke) (?:month|week|maand|fortnight)|pm|p/m|monthly|weekly|fortnightly|"
        r"maandeliks|"
        r"weekliks)\b|"
        r"(?:monthly|weekly|fortnightly|maandelikse|weeklikse) (?:payments?|instal+ments?|amount|debit|"
        r"paaiement)|"
        r"(?:every|each|elke) (?:month|week|maand)|"
        r"(?:now|today|first|this month|nou|vandag) and (?:then )?(?:the )?(?:rest|balance|remainder)|"
        r"(?:half|part|some|deel|helfte|portion|a bit) (?:\w+ ){0,3}and (?:the )?(?:rest|balance|remainder|"
        r"other half|half)|die res later)\b",
    ),
    _cue(_Rank.PROMISE, rf"\b{_FUTURE}\s+{_NOT}{{0,6}}?{_PAY_VERB}\b", unless_before=_NEGATION_BEFORE),
    _cue(
        _Rank.PROMISE,
        r"(?:^|\b(?:ok|okay|yes|ja|sure|and|so|then|sorry|thanks|great)\b[ ,!.]*)"
        r"(?:paying|pay|settling|transferring)\b",
    ),
    _cue(
        _Rank.PROMISE,
        r"\b(?:make a plan|'?n plan maak|give (?:me|us) (?:until|till|untill|up to|up until|time (?:until|"
        r"till))|"
        r"gee my (?:tot|tyd tot)|(?:payment|money|it|the balance|the rest) (?:will|shall|is going to) be "
        r"(?:made|done|sent|paid|settled|transferred|in your account)|(?:debit|stop) order (?:will|should|"
        r"is going "
        r"to) (?:go off|run|be|come off)|betaling sal (?:\w+ )?gemaak word)\b",
        unless_before=_NEGATION_BEFORE,
    ),
    _cue(
        _Rank.REFUSAL,
        r"\b(?:will not pay|not (?:going to )?pay(?:ing)?|never (?:going to )?pay|refuse\w*|no intention|"
        r"take me to court|sue me|see you in court|do what you (?:want|like)|do your worst|harass\w*|"
        r"vultures?|crooks?|thie(?:f|ves)|criminals?|liars?|blood ?suckers?|not interested|leave me alone|"
        r"go to hell|f off|fuck\w*|voetsek|los my uit|gaan nie betaal nie|sal nie betaal nie|nie belangstel|"
        r"nie geinteresseerd|betaal niks|will not be paying|sick and tired|fed up|tired of (?:your|these|the|"
        r"you))\b",
        unless_before=_CONDITIONAL_BEFORE,
    ),
    _cue(
        _Rank.CALLBACK,
        r"\b(?:call me|phone me|ring me|call (?:me )?back|callback|call-back|give me a (?:call|ring)|"
        r"(?:speak|talk|chat) (?:to|with) (?:a |an |someone|somebody|a real|person|consultant|agent|manager|"
        r"human|you|your)|can (?:someone|somebody|you) (?:call|phone|contact|ring)|please call|"
        r"bel my|skakel my|kan iemand my (?:bel|skakel)|praat met iemand|wil met iemand praat|"
        r"contact me (?:on|at|after|before|tomorrow|today|urgently))\b",
    ),
    _cue(
        _Rank.BALANCE_QUERY,
        r"\b(?:how much|balance|outstanding|statement|settlement (?:amount|figure|quote|value|letter)|"
        r"what (?:is|are) (?:this|these|the|my) (?:amount|charges|debt|payment)s?|what is this (?:for|about)|"
        r"what (?:do|does) i owe|what i owe|how (?:else )?(?:can|do|should|must) i pay|where (?:can|"
        r"do) i pay|"
        r"ways? to pay|banking details|bank details|account details|account number|reference number|"
        r"which account|link (?:does not|is not|did not|will not) (?:work|open|load)|"
        r"(?:the )?link (?:is )?(?:broken|not working)|"
        r"can i pay (?:at|with|via|using|through|by|in) (?:a |the )?(?:store|shop|card|eft|cash|snapscan|"
        r"zapper|"
        r"bank|atm|pep|shoprite|checkers|capitec|branch|post office)|pay at (?:a |the )?(?:store|shop)|"
        r"hoeveel|balans|uitstaande|staat|wat skuld ek|bankbesonderhede|hoe kan ek betaal|waar kan ek betaal|"
        r"quote|discount|settle for less|did not (?:get|receive) (?:the |a |any )?link|(?:send|"
        r"resend) (?:me )?"
        r"(?:the |a )?(?:link|payment link)|no link)\b",
    ),
    # Wordings that span a few words, kept apart from the lists above for readability.
    _cue(
        _Rank.PAID_ALREADY,
        r"\bhet\s+(?:(?!nie\b|nog\b)[\w']+\s+){0,4}?(?:betaal|inbetaal|oorbetaal|vereffen|gestuur|"
        r"oorgeplaas)\b",
        unless_before=_PAST_CONTEXT,
    ),
    _cue(
        _Rank.PAYMENT_PLAN,
        r"\b(?:every (?:two|2|second) weeks?|every fortnight|bi-?weekly|twice a month|"
        r"(?:monthly|weekly|maandeliks|weekliks) (?:r ?\d|\d|betaal|pay)|reduce (?:the |my )?(?:monthly )?"
        r"(?:payment|instal+ment|amount)s?|lower (?:the |my )?(?:monthly )?(?:payment|instal+ment)s?)",
    ),
    _cue(
        _Rank.HARDSHIP,
        r"\b(?:hours (?:were |have been |got )?cut|pay cut|salary cut|short time|can barely|barely (?:pay|"
        r"afford|"
        r"survive|cope|make it)|(?:cannot|can not) make ends meet|make ends meet|drowning in debt|"
        r"too many debts|kan skaars|maak nie die mond vol nie)\b",
    ),
    _cue(
        _Rank.DISPUTE,
        r"\b(?:charged me (?:r ?\d[\d ,.]*|extra|twice|double|for nothing|wrongly|too much)|"
        r"(?:want|need) (?:it|my money|the money) (?:reversed|back)|refund|reversal|"
        r"unauthori[sz]ed (?:debit|deduction|charge|transaction)s?|not authori[sz]ed|"
        r"nooit (?:[\w']+ ){0,3}(?:oopgemaak|geneem|geteken|aansoek gedoen)|terugbetaling)\b",
    ),
    _cue(
        _Rank.WRONG_PERSON,
        r"\b(?:(?:this|the) number (?:belongs|belonged) to|number belongs to someone else|"
        r"not (?:his|her|their) number (?:anymore|any more)|se (?:nommer|foon) nie|nie meer sy nommer|"
        r"got this number recently|new number)\b",
    ),
    _cue(
        _Rank.CALLBACK,
        r"\b(?:(?:bel|skakel|terugbel) my|my (?:asseblief )?(?:skakel|bel|terugbel)|over the phone|"
        r"on the phone|"
        r"by phone|phone call|discuss (?:this|it|my account|the account) with (?:someone|somebody|a person|"
        r"an agent|a consultant|you))\b",
    ),
    _cue(
        _Rank.PROMISE,
        r"\b(?:money|payment|it|the funds) (?:will|should|is going to) (?:be there|reach you|be in|"
        r"go through|"
        r"clear|be paid|be transferred)\b",
        unless_before=_NEGATION_BEFORE,
    ),
    _cue(_Rank.PAID_ALREADY, r"\b(?:i have|i've|we have) been paying\b|\bek betaal al\b"),
    _cue(_Rank.PAYMENT_PLAN, r"\b(?:betalings?|betaal)(?:ooreenkoms|plan|reeling)\w*"),
    _cue(
        _Rank.DISPUTE,
        r"\b(?:(?:do not|did not|never) recogni[sz]e|only (?:took|borrowed|owed|owe|bought|used|had)|"
        r"how (?:is it|come it is|did it (?:become|get to)) (?:now )?r ?\d|erken (?:[\w']+ ){0,2}nie)\b",
    ),
    _cue(
        _Rank.PROMISE,
        r"\b(?:see what i can do|doen wat ek kan|sien wat ek kan doen)\b",
        unless_before=_NEGATION_BEFORE,
    ),
    _cue(
        _Rank.PAID_ALREADY,
        r"\b(?:(?:transfer|payment|eft|deposit|oorbetaling|betaling) (?:is |was |has been )?(?:done|complete|"
        r"completed|sent|gedoen)|done (?:the )?(?:payment|transfer|eft)|confirm (?:receipt|payment|"
        r"you received))\b",
    ),
    _cue(
        _Rank.DISPUTE,
        r"\b(?:(?:did not|never) (?:take|took|sign|signed|open|opened|apply|applied|authori[sz]e|agree to)|"
        r"illegal|unlawful|reckless (?:lending|credit)|(?:will|do) not accept (?:it|this|the)|"
        r"returned (?:the|it|my|everything)|account (?:was|is|has been) closed|closed the account|"
        r"betwis\w*)\b",
    ),
    _cue(
        _Rank.OPT_OUT_EXPLICIT,
        r"\b(?:take (?:me|my (?:number|name|details)) off|(?:off|from) your (?:list|database|system|records)|"
        r"haal my (?:nommer )?(?:af|van))\b",
    ),
    _cue(
        _Rank.CALLBACK,
        r"\b(?:someone|somebody|an agent|a consultant|a person|iemand)\b[\w ]{0,25}? (?:call|phone|contact|"
        r"ring|"
        r"bel|skakel) (?:me|my)\b",
    ),
    _cue(
        _Rank.WRONG_PERSON,
        r"\b(?:(?:person|man|lady|guy|woman|he|she) you (?:are|re) looking for|does not (?:stay|live|"
        r"work) here|"
        r"no longer (?:stays|lives|works) here|moved away|bly nie (?:meer )?hier nie)\b",
    ),
    _cue(_Rank.BALANCE_QUERY, r"\b(?:what (?:happens|will happen) if|consequences)\b"),
    _cue(
        _Rank.ACKNOWLEDGE,
        r"(?:\b(?:ok|okay|oky|okey|k|kk|noted|thanks|thank you|received|well received|got it|sharp|sho|shot|"
        r"cool|alright|fine|sure|understood|great|perfect|no problem|dankie|reg so|goed so|in orde|ontvang|"
        r"yes|yebo|ja)\b|[\U0001F44D\U0001F64F\U0001F44C\u2705\U0001F642\U0001F60A\u263A\u2764])",
    ),
)

_PAY_WORD = re.compile(
    r"\b(?:pay|paying|payment|betaal|settle|settling|transfer|transferring|inbetaal|eft)\b"
)


@dataclass(frozen=True, slots=True)
class IntentDecision:
    """The intent to act on, how sure the rules are, and every intent the reply touched."""

    intent: Intent
    confidence: float
    candidates: tuple[Intent, ...]
    explicit_opt_out: bool


def _cue_matches(cue: _Cue, text: str) -> bool:
    for match in cue.pattern.finditer(text):
        if cue.unless_before is None or not cue.unless_before.search(text[: match.start()]):
            return True
    return False


def _pay_word_with_date(text: str) -> bool:
    """A non-negated 'pay' word, for replies that name a day ("Can I pay next Wednesday?")."""
    return any(
        not _NEGATION_BEFORE.search(text[max(0, match.start() - 20) : match.start()])
        for match in _PAY_WORD.finditer(text)
    )


def classify_intent(
    normalised: str, *, vulnerable: bool, names_a_day: bool, original: str = ""
) -> IntentDecision:
    """Decide the intent of a normalised reply.

    `vulnerable` says the vulnerability rules fired (a hardship cue of the highest rank),
    `names_a_day` that the reply names a future day (a paying word plus a day is a promise), and
    `original` is the reply with its capitals, where a name can be recognised.
    """
    ordinary: dict[_Rank, int] = {}
    weak: dict[_Rank, int] = {}
    for cue in _CUES:
        if _cue_matches(cue, normalised):
            bucket = weak if cue.weak else ordinary
            bucket[cue.rank] = bucket.get(cue.rank, 0) + 1
    if vulnerable:
        ordinary[_Rank.HARDSHIP_VULNERABLE] = ordinary.get(_Rank.HARDSHIP_VULNERABLE, 0) + 1
    if names_a_day and _pay_word_with_date(normalised):
        ordinary[_Rank.PROMISE] = ordinary.get(_Rank.PROMISE, 0) + 1
    if original and _NOT_THIS_PERSON.search(original):
        ordinary[_Rank.WRONG_PERSON] = ordinary.get(_Rank.WRONG_PERSON, 0) + 1
    acknowledgement = {rank: count for rank, count in ordinary.items() if rank is _Rank.ACKNOWLEDGE}
    substantive = {rank: count for rank, count in ordinary.items() if rank is not _Rank.ACKNOWLEDGE}
    pool = substantive or weak or acknowledgement
    candidates = tuple(dict.fromkeys(_INTENT_OF_RANK[rank] for rank in sorted({*ordinary, *weak})))
    if not pool:
        fallback = Intent.BALANCE_QUERY if normalised.rstrip().endswith("?") else Intent.ACKNOWLEDGE
        return IntentDecision(intent=fallback, confidence=0.3, candidates=(), explicit_opt_out=False)
    winner = min(pool)
    rivals = [
        rank
        for rank in pool
        if _INTENT_OF_RANK[rank] != _INTENT_OF_RANK[winner] and rank is not _Rank.ACKNOWLEDGE
    ]
    if pool is weak:
        confidence = 0.5
    elif rivals and winner not in (_Rank.OPT_OUT_EXPLICIT, _Rank.HARDSHIP_VULNERABLE):
        confidence = 0.7
    else:
        confidence = 0.95 if pool[winner] > 1 else 0.9
    return IntentDecision(
        intent=_INTENT_OF_RANK[winner],
        confidence=confidence,
        candidates=candidates,
        explicit_opt_out=_Rank.OPT_OUT_EXPLICIT in ordinary,
    )
