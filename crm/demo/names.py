"""The words demo data is made of: locales, names, companies, staff, messages."""

from __future__ import annotations

from typing import NamedTuple

# fmt: off
STAFF = (  # email, display name, role; slots 1-3 (manager, agents) own accounts
    ("admin@mutual.example", "Admin", "admin"),
    ("manager@mutual.example", "Morgan Lee", "manager"),
    ("agent1@mutual.example", "Sam Rivera", "agent"),
    ("agent2@mutual.example", "Priya Shah", "agent"),
    ("analyst@mutual.example", "Kim Novak", "analyst"),
)
OWNER_SLOTS, OWNER_WEIGHTS = (1, 2, 3), (0.2, 0.4, 0.4)
# Per locale: "code weight currency dialling-code time-zones company-suffix",
# then given names, then family names.
_LOCALE_TABLE = """
de-DE .17 EUR 49 Europe/Berlin GmbH
    Lukas,Hannah,Jürgen,Sophie,Maximilian,Lena,Jörg,Anja,Felix,Marie
    Müller,Schmidt,Schäfer,Weiß,Groß,Becker,Hoffmann,Köhler,Wagner,Koch
fr-FR .13 EUR 33 Europe/Paris SARL
    Léa,Chloé,Hélène,François,Gaëlle,Zoé,Mathéo,Camille,Julien,Noémie
    Dubois,Lefèvre,Girard,Moreau,Laurent,Bernard,Fournier,Rousseau,Mercier,Faure
es-ES .10 EUR 34 Europe/Madrid,Atlantic/Canary S.L.
    José,María,Sofía,Álvaro,Iñigo,Lucía,Javier,Carmen,Raúl,Begoña
    García,Martínez,Núñez,Fernández,Pérez,López,Sánchez,Gómez,Ibáñez,Ruiz
it-IT .08 EUR 39 Europe/Rome S.r.l.
    Giulia,Francesco,Niccolò,Chiara,Lorenzo,Martina,Matteo,Alessia,Andrea
    Rossi,Russo,Esposito,Bianchi,Romano,Colombo,Ricci,Marino,Greco,Bruno
nl-NL .08 EUR 31 Europe/Amsterdam B.V.
    Daan,Sanne,Bram,Zoë,Anouk,Sem,Fleur,Jeroen,Lotte,Thijs
    de Vries,Jansen,van Dijk,Bakker,Visser,Smit,de Jong,Mulder,Bos,van den Berg
pl-PL .06 EUR 48 Europe/Warsaw Sp. z o.o.
    Łukasz,Agnieszka,Małgorzata,Paweł,Katarzyna,Michał,Zofia,Piotr,Joanna
    Kowalski,Wiśniewski,Wójcik,Zieliński,Nowak,Kamiński,Dąbrowski,Woźniak
pt-PT .04 EUR 351 Europe/Lisbon,Atlantic/Azores Lda.
    João,Inês,Tomás,Beatriz,Gonçalo,Leonor,Rodrigo,Mariana,Duarte,Matilde
    Silva,Santos,Gonçalves,Conceição,Ferreira,Pereira,Costa,Sousa,Simões
sv-SE .04 EUR 46 Europe/Stockholm AB
    Åsa,Björn,Linnéa,Oskar,Elsa,Måns,Ingrid,Göran,Saga,Erik
    Andersson,Johansson,Lindström,Öberg,Karlsson,Nilsson,Ström,Åkesson,Holm
da-DK .04 EUR 45 Europe/Copenhagen ApS
    Søren,Mette,Frederik,Ida,Rasmus,Astrid,Jens,Freja,Mads,Signe
    Nørgaard,Jørgensen,Hansen,Nielsen,Sørensen,Christensen,Møller,Kjær
en-GB .14 GBP 44 Europe/London,Europe/Dublin Ltd
    Oliver,Amelia,Harry,Isla,George,Siobhán,Noah,Olivia,Jack,Zoë
    Smith,Jones,Taylor,Brown,O'Brien,Evans,Thomas,Roberts,Walker,McAllister
en-US .12 USD 1 America/New_York,America/Chicago,America/Los_Angeles Inc.
    James,Mary,Michael,Jennifer,Renée,David,Ashley,André,Emily,Daniel
    Johnson,Williams,Miller,Davis,Rodriguez,Nguyen,Anderson,Jackson,Harris
"""
FX_TO_EUR = {"EUR": 1.0, "GBP": 1.17, "USD": 0.92}  # only to rank customers
# Reserved example domains: demo addresses can never reach a real mailbox.
DOMAINS = ("example.com", "example.net", "example.org", "mail.example", "post.example")
EMAIL_FORMATS = ("{g}.{f}", "{g}{f}", "{i}{f}", "{g}_{f}", "{f}.{g}", "{g}.{f}{y}")
COMPANY_WORDS = ("Atlas", "Nordwind", "Bluebird", "Kestrel", "Lumen", "Orbit", "Cedar",
                 "Harbor", "Vega", "Quartz")
COMPANY_KINDS = ("Logistics", "Studio", "Trading", "Systems", "Foods", "Design",
                 "Partners", "Retail", "Labs")
ACQUISITION = ("organic_search", "paid_search", "social", "referral", "email",
               "store", "partner")
INDUSTRIES = ("retail", "hospitality", "manufacturing", "services", "education")
WEB_SECTIONS = ("new arrivals", "winter jackets", "running shoes", "home & living",
                "gift cards", "sale items", "accessories")
SUPPORT = (  # subject, body
    ("Where is my parcel?", "Tracking link resent; parcel is with the courier."),
    ("Item arrived damaged", "Photos received; replacement dispatched."),
    ("Wrong size delivered", "Exchange arranged with a prepaid label."),
    ("Invoice request", "VAT invoice sent by email."),
    ("Cannot sign in", "Password reset link sent; customer confirmed access."),
    ("Question about a product", "Explained sizing and materials."),
    ("Change delivery address", "Address updated before dispatch."),
    ("Refund status", "Refund confirmed; 3-5 working days to appear."),
)
NOTES = ("Prefers to be contacted by email.", "Interested in the loyalty programme.",
         "Asked for a quote for a bulk order.", "Birthday in spring: send a voucher.",
         "Had a poor delivery experience last year; handle with care.",
         "Call back after the holidays.")
FEEDBACK = {  # by rating: 8-10, 5-7, 0-4
    "good": ("Great quality, fast delivery.", "Love it, will order again.",
             "Exactly as described."),
    "mixed": ("Fine, but delivery took a while.",
              "Good product, packaging could be better.", "Okay overall."),
    "bad": ("Not what I expected.", "Arrived late and the box was damaged.",
            "Quality has gone down."),
}
CAMPAIGNS = ("New year, new favourites", "Winter sale: last chance",
             "Spring collection is here", "Easter treats", "May days: 15% off",
             "Summer essentials", "Holiday packing list", "Back to routine",
             "Autumn edit", "Members' weekend", "Black Friday early access",
             "Gift guide {year}")
# fmt: on


class Locale(NamedTuple):
    code: str
    weight: float
    currency: str
    dial: str
    zones: tuple[str, ...]
    suffix: str
    given: tuple[str, ...]
    family: tuple[str, ...]


def _locales(table: str) -> tuple[Locale, ...]:
    lines = [line.strip() for line in table.strip().splitlines()]
    found = []
    for head, given, family in zip(lines[::3], lines[1::3], lines[2::3], strict=True):
        code, weight, currency, dial, zones, suffix = head.split(" ", 5)
        found.append(
            Locale(
                code,
                float(weight),
                currency,
                dial,
                tuple(zones.split(",")),
                suffix,
                tuple(given.split(",")),
                tuple(family.split(",")),
            )
        )
    return tuple(found)


LOCALES = _locales(_LOCALE_TABLE)
