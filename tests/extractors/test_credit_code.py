from extractors.credit_code import check_character, is_valid


def test_known_valid_codes():
    # Published codes of real registrants (check characters computed by GB 32100-2015).
    assert is_valid("91350100M000100Y43")
    assert is_valid("91610131MA6TXK1U2Y")


def test_wrong_check_character_is_invalid():
    assert not is_valid("91610131MA6TXK1U2F")
    assert check_character("91610131MA6TXK1U2") == "Y"


def test_letters_outside_the_alphabet_are_invalid():
    assert not is_valid("9161013IMA6TXK1U2Y")  # I is not used
