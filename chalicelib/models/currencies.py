"""ISO 4217 currency codes a product may be priced in.

The source is ISO 4217 List One (active codes, as amended up to 2025: XCG replaced ANG,
ZWG replaced ZWL, SLE replaced SLL, and BGN left with Bulgaria's move to the euro).
Only circulating currencies are accepted: the list's funds codes (BOV, CHE, CHW, CLF, COU,
MXV, USN, UYI, UYW), precious metals (XAG, XAU, XPD, XPT), bond-market and accounting
units (XAD, XBA, XBB, XBC, XBD, XDR, XSU, XUA) and the testing / no-currency codes (XTS, XXX)
are not prices a shop charges. Codes are upper case, exactly as ISO writes them.
"""

from __future__ import annotations

_CODES = """
AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BHD BIF BMD BND BOB BRL BSD BTN BWP BYN
BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP
GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS
KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR
MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD
RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP
TRY TTD TWD TZS UAH UGX USD UYU UZS VED VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW
ZWG
"""

# Sorted, so that the OpenAPI enum generated from it is stable.
ISO_4217_CODES: tuple[str, ...] = tuple(sorted(_CODES.split()))
CURRENCY_CODES: frozenset[str] = frozenset(ISO_4217_CODES)
DEFAULT_CURRENCY = "USD"


def is_currency(code: str) -> bool:
    """True for an active, circulating ISO 4217 code written in upper case."""
    return code in CURRENCY_CODES
