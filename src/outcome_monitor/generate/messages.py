"""iJw 3.2 message text (JW301, JW305, JW307, JW323) from string templates.

Messages are written as text, never as a tree, so that a national-size run streams. Every value that
comes from free text (names, streets, places) goes through ``esc``; codes, numbers and dates are
produced by the generator itself and contain no markup characters.
"""

from __future__ import annotations

from dataclasses import dataclass

from outcome_monitor.generate.care import Toewijzing
from outcome_monitor.generate.people import Person

IJW_NS = "http://www.istandaarden.nl/ijw/3_2/basisschema/schema"
BERICHTCODE = {"JW301": "436", "JW305": "438", "JW307": "440", "JW323": "490"}
XSD_VERSIE = "1.0.0"


def esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def header(kind: str, afzender: str, ontvanger: str, identificatie: str, dagtekening: str) -> str:
    ns = kind.lower()
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<{ns}:Bericht xmlns:ijw="{IJW_NS}" xmlns:{ns}="http://www.istandaarden.nl/ijw/3_2/{ns}/schema">\n'
        f"<{ns}:Header>\n"
        f"<{ns}:BerichtCode>{BERICHTCODE[kind]}</{ns}:BerichtCode>\n"
        f"<{ns}:BerichtVersie>3</{ns}:BerichtVersie>\n"
        f"<{ns}:BerichtSubversie>2</{ns}:BerichtSubversie>\n"
        f"<{ns}:Afzender>{afzender}</{ns}:Afzender>\n"
        f"<{ns}:Ontvanger>{ontvanger}</{ns}:Ontvanger>\n"
        f"<{ns}:BerichtIdentificatie><ijw:Identificatie>{identificatie}</ijw:Identificatie>"
        f"<ijw:Dagtekening>{dagtekening}</ijw:Dagtekening></{ns}:BerichtIdentificatie>\n"
        f"<{ns}:XsdVersie><ijw:BasisschemaXsdVersie>{XSD_VERSIE}</ijw:BasisschemaXsdVersie>"
        f"<ijw:BerichtXsdVersie>{XSD_VERSIE}</ijw:BerichtXsdVersie></{ns}:XsdVersie>\n"
        f"</{ns}:Header>\n"
    )


def _geslachtsnaam(p: Person) -> str:
    voorvoegsel = f"<ijw:Voorvoegsel>{esc(p.voorvoegsel)}</ijw:Voorvoegsel>" if p.voorvoegsel else ""
    achternaam = f"<ijw:Achternaam>{esc(p.achternaam)}</ijw:Achternaam>"
    return f"<ijw:Geslachtsnaam>{achternaam}{voorvoegsel}</ijw:Geslachtsnaam>"


def _client_identity(ns: str, p: Person, full_name: bool) -> str:
    naamgebruik = "<ijw:NaamGebruik>1</ijw:NaamGebruik>" if full_name else ""
    return (
        f"<{ns}:Bsn>{p.bsn}</{ns}:Bsn>\n"
        f"<{ns}:Geboortedatum><ijw:Datum>{p.geboortedatum}</ijw:Datum></{ns}:Geboortedatum>\n"
        f"<{ns}:Geslacht>{p.geslacht}</{ns}:Geslacht>\n"
        f"<{ns}:Naam>{_geslachtsnaam(p)}<ijw:Voornamen>{esc(p.voornamen)}</ijw:Voornamen>"
        f"<ijw:Voorletters>{p.voorletters}</ijw:Voorletters>{naamgebruik}</{ns}:Naam>\n"
    )


@dataclass(frozen=True, slots=True)
class ClientXml:
    """A client's personal part of JW301, JW305 and JW307, formatted once per client.

    Personal data a correct ingest must drop: Geboortedatum, Geslacht, Naam (Geslachtsnaam, Voornamen,
    Voorletters) in all three; in JW301 also Relaties (a parent's name, sex and phone number) and
    Contactgegevens (street, house number, postcode, place).
    """

    bsn: str
    jw301: str
    jw305: str
    jw307: str


def client_xml(p: Person) -> ClientXml:
    jw301 = (
        _client_identity("jw301", p, full_name=True)
        + "<jw301:Relaties><jw301:Relatie><jw301:Nummer>1</jw301:Nummer><jw301:Volgorde>1</jw301:Volgorde>"
        f"<jw301:Soort>10</jw301:Soort><jw301:Geslacht>{p.ouder_geslacht}</jw301:Geslacht>"
        f"<jw301:Naam>{_geslachtsnaam(p)}<ijw:Voornamen>{esc(p.ouder_voornaam)}</ijw:Voornamen>"
        f"<ijw:Voorletters>{p.ouder_voorletters}</ijw:Voorletters><ijw:NaamGebruik>1</ijw:NaamGebruik></jw301:Naam>"
        "<jw301:Contact><jw301:Soort>01</jw301:Soort><jw301:Telefoon><ijw:Telefoon01>"
        f"<ijw:Telefoonnummer>{p.ouder_telefoon}</ijw:Telefoonnummer><ijw:Landnummer>0031</ijw:Landnummer>"
        "</ijw:Telefoon01></jw301:Telefoon></jw301:Contact></jw301:Relatie></jw301:Relaties>\n"
        "<jw301:Contactgegevens><jw301:Contact><jw301:Soort>01</jw301:Soort><jw301:Adres>"
        f"<ijw:Huis><ijw:Huisnummer>{p.huisnummer}</ijw:Huisnummer></ijw:Huis>"
        f"<ijw:Postcode>{p.postcode}</ijw:Postcode><ijw:Straatnaam>{esc(p.straat)}</ijw:Straatnaam>"
        f"<ijw:Plaatsnaam>{esc(p.plaats)}</ijw:Plaatsnaam><ijw:LandCode>NL</ijw:LandCode>"
        "</jw301:Adres></jw301:Contact></jw301:Contactgegevens>\n"
    )
    return ClientXml(
        p.bsn,
        jw301,
        _client_identity("jw305", p, full_name=False),
        _client_identity("jw307", p, full_name=False),
    )


def jw301(
    afzender: str,
    ontvanger: str,
    identificatie: str,
    dagtekening: str,
    client: ClientXml,
    toewijzingen: list[Toewijzing],
    toewijzingsdatum: str,
    ingangsdatum: str,
    einddatum: str,
) -> str:
    """Toewijzing: one client, one or more ToegewezenProducten."""
    products = []
    for t in toewijzingen:
        n = t.nummer
        tijd = f"{8 + n % 9:02d}:{n * 7 % 60:02d}:{n * 13 % 60:02d}"  # a working-day time, fixed per number
        products.append(
            "<jw301:ToegewezenProduct>"
            f"<jw301:ToewijzingNummer>{n}</jw301:ToewijzingNummer>"
            f"<jw301:Product><ijw:Categorie>{t.product.categorie}</ijw:Categorie>"
            f"<ijw:Code>{t.product.code}</ijw:Code></jw301:Product>"
            f"<jw301:Toewijzingsdatum>{toewijzingsdatum}</jw301:Toewijzingsdatum>"
            f"<jw301:Toewijzingstijd>{tijd}</jw301:Toewijzingstijd>"
            f"<jw301:Ingangsdatum>{ingangsdatum}</jw301:Ingangsdatum>"
            f"<jw301:Einddatum>{einddatum}</jw301:Einddatum>"
            f"<jw301:Omvang><ijw:Volume>{t.volume}</ijw:Volume><ijw:Eenheid>{t.product.eenheid}</ijw:Eenheid>"
            f"<ijw:Frequentie>{t.product.frequentie}</ijw:Frequentie></jw301:Omvang>"
            "</jw301:ToegewezenProduct>\n"
        )
    return (
        header("JW301", afzender, ontvanger, identificatie, dagtekening)
        + "<jw301:Client>\n"
        + client.jw301
        + "<jw301:ToegewezenProducten>\n"
        + "".join(products)
        + "</jw301:ToegewezenProducten>\n</jw301:Client>\n</jw301:Bericht>\n"
    )


def jw305(
    afzender: str,
    ontvanger: str,
    identificatie: str,
    dagtekening: str,
    client: ClientXml,
    toewijzingen: list[Toewijzing],
    ingangsdatum: str,
    begindatum: str,
) -> str:
    """Start of care: one client, one StartProduct per toewijzing, StatusAanlevering 1."""
    products = "".join(
        "<jw305:StartProduct>"
        f"<jw305:ToewijzingNummer>{t.nummer}</jw305:ToewijzingNummer>"
        f"<jw305:Product><ijw:Categorie>{t.product.categorie}</ijw:Categorie>"
        f"<ijw:Code>{t.product.code}</ijw:Code></jw305:Product>"
        f"<jw305:ToewijzingIngangsdatum>{ingangsdatum}</jw305:ToewijzingIngangsdatum>"
        f"<jw305:Begindatum>{begindatum}</jw305:Begindatum>"
        "<jw305:StatusAanlevering>1</jw305:StatusAanlevering>"
        "</jw305:StartProduct>\n"
        for t in toewijzingen
    )
    return (
        header("JW305", afzender, ontvanger, identificatie, dagtekening)
        + "<jw305:Client>\n"
        + client.jw305
        + "<jw305:StartProducten>\n"
        + products
        + "</jw305:StartProducten>\n</jw305:Client>\n</jw305:Bericht>\n"
    )


def jw307(
    afzender: str,
    ontvanger: str,
    identificatie: str,
    dagtekening: str,
    client: ClientXml,
    bsn: str,
    toewijzingen: list[Toewijzing],
    ingangsdatum: str,
    begindatum: str,
    reden: str,
    einddatum: str,
) -> str:
    """Stop of care: one client, one StopProduct per toewijzing (``bsn`` may be a corrupted one)."""
    products = "".join(
        "<jw307:StopProduct>"
        f"<jw307:ToewijzingNummer>{t.nummer}</jw307:ToewijzingNummer>"
        f"<jw307:Product><ijw:Categorie>{t.product.categorie}</ijw:Categorie>"
        f"<ijw:Code>{t.product.code}</ijw:Code></jw307:Product>"
        f"<jw307:ToewijzingIngangsdatum>{ingangsdatum}</jw307:ToewijzingIngangsdatum>"
        f"<jw307:Begindatum>{begindatum}</jw307:Begindatum>"
        f"<jw307:RedenBeeindiging>{reden}</jw307:RedenBeeindiging>"
        f"<jw307:Einddatum>{einddatum}</jw307:Einddatum>"
        "<jw307:StatusAanlevering>1</jw307:StatusAanlevering>"
        "</jw307:StopProduct>\n"
        for t in toewijzingen
    )
    identity = client.jw307
    if bsn != client.bsn:
        identity = identity.replace(f"<jw307:Bsn>{client.bsn}</jw307:Bsn>", f"<jw307:Bsn>{bsn}</jw307:Bsn>", 1)
    return (
        header("JW307", afzender, ontvanger, identificatie, dagtekening)
        + "<jw307:Client>\n"
        + identity
        + "<jw307:StopProducten>\n"
        + products
        + "</jw307:StopProducten>\n</jw307:Client>\n</jw307:Bericht>\n"
    )


def jw323_head(
    afzender: str,
    ontvanger: str,
    identificatie: str,
    dagtekening: str,
    declaratienummer: str,
    periode_begin: str,
    periode_eind: str,
    totaal_cents: int,
) -> str:
    """Declaration header up to the opening of Clienten (the total must be known first)."""
    return (
        header("JW323", afzender, ontvanger, identificatie, dagtekening) + "<jw323:Declaratie>\n"
        f"<jw323:DeclaratieNummer>{declaratienummer}</jw323:DeclaratieNummer>\n"
        f"<jw323:DeclaratiePeriode><ijw:Begindatum>{periode_begin}</ijw:Begindatum>"
        f"<ijw:Einddatum>{periode_eind}</ijw:Einddatum></jw323:DeclaratiePeriode>\n"
        f"<jw323:DeclaratieDagtekening>{dagtekening}</jw323:DeclaratieDagtekening>\n"
        f"<jw323:TotaalIngediendBedrag><ijw:TotaalBedrag>{totaal_cents}</ijw:TotaalBedrag>"
        "<ijw:DebetCredit>D</ijw:DebetCredit></jw323:TotaalIngediendBedrag>\n"
        "<jw323:Clienten>\n"
    )


JW323_TAIL = "</jw323:Clienten>\n</jw323:Declaratie>\n</jw323:Bericht>\n"


def jw323_client_open(bsn: str) -> str:
    return f"<jw323:Client>\n<jw323:Bsn>{bsn}</jw323:Bsn>\n<jw323:Prestaties>\n"


JW323_CLIENT_CLOSE = "</jw323:Prestaties>\n</jw323:Client>\n"


def jw323_toewijzing_fields(t: Toewijzing) -> str:
    """The part of a Prestatie that is the same for every line of a toewijzing (built once per toewijzing)."""
    return (
        f"<jw323:ToewijzingNummer>{t.nummer}</jw323:ToewijzingNummer>"
        f"<jw323:ProductCategorie>{t.product.categorie}</jw323:ProductCategorie>"
        f"<jw323:ProductCode>{t.product.code}</jw323:ProductCode>"
    )


def jw323_prestatie(referentienummer: str, t: Toewijzing, begin: str, eind: str, volume: int, bedrag: int) -> str:
    """One declaration line (Prestatie), always debit. ``t.decl_fields`` must be set."""
    return (
        "<jw323:Prestatie><jw323:ProductReferentie>"
        f"<ijw:ReferentieNummer>{referentienummer}</ijw:ReferentieNummer></jw323:ProductReferentie>"
        f"{t.decl_fields}"
        f"<jw323:ProductPeriode><ijw:Begindatum>{begin}</ijw:Begindatum>"
        f"<ijw:Einddatum>{eind}</ijw:Einddatum></jw323:ProductPeriode>"
        f"<jw323:GeleverdVolume>{volume}</jw323:GeleverdVolume>"
        f"<jw323:Eenheid>{t.product.eenheid}</jw323:Eenheid>"
        f"<jw323:ProductTarief>{t.tarief}</jw323:ProductTarief>"
        f"<jw323:IngediendBedrag><ijw:Bedrag>{bedrag}</ijw:Bedrag>"
        "<ijw:DebetCredit>D</ijw:DebetCredit></jw323:IngediendBedrag></jw323:Prestatie>\n"
    )
