from outcome_monitor.bsn import passes_elfproef, pseudonymise


def test_test_range_bsns_pass_the_elfproef():
    assert passes_elfproef("999900006")
    assert passes_elfproef("999900018")


def test_a_changed_digit_fails_the_elfproef():
    assert not passes_elfproef("999900007")
    assert not passes_elfproef("999900016")


def test_malformed_bsns_fail():
    for value in ("", "12345678", "1234567890", "99990000a", "000000000"):
        assert not passes_elfproef(value)


def test_pseudonym_is_stable_per_key_and_differs_between_keys():
    first = pseudonymise("999900006", b"key-a")
    assert first == pseudonymise("999900006", b"key-a")
    assert first != pseudonymise("999900006", b"key-b")
    assert first != pseudonymise("999900018", b"key-a")
    assert "999900006" not in first and len(first) == 64
