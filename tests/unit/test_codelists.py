from outcome_monitor.codelists import codelist, codes


def test_gemeenten_are_the_342_of_2026():
    gemeenten = codes("CBS_Gemeentecodes")
    assert len(gemeenten) == 342
    assert gemeenten["1731"] == "Midden-Drenthe"
    assert gemeenten["1969"] == "Westerkwartier"


def test_domain_lists_are_keyed_by_domain():
    categories = codelist("productcategorie")
    assert "jeugd:45" in categories and "wmo:02" in categories
    assert "jeugd:02" not in categories
    reasons = codelist("reden_beeindiging")
    assert {"jeugd:31", "jeugd:20", "wmo:19"} <= reasons


def test_metadata_rows_are_not_codes():
    assert codelist("debet_credit") == {"C", "D"}
    assert codelist("status_aanlevering") == {"1", "2", "3", "9"}
    assert codelist("eenheid") == {"01", "04", "14", "16", "82", "83", "84"}
