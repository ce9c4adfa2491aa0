"""The KMS action catalogue against botocore's model of the KMS API, an independent source.

Every KMS API operation is authorised by the IAM action of the same name, except ReEncrypt
(kms:ReEncryptFrom and kms:ReEncryptTo); kms:SynchronizeMultiRegionKey is an IAM action with no
API operation. The Service Authorization Reference lists them:
https://docs.aws.amazon.com/service-authorization/latest/reference/list_awskeymanagementservice.html
If botocore gains a KMS operation, this test says which action the catalogue lacks.
"""

from __future__ import annotations

import botocore.session

from remediator.policy import actions as kms

_API_TO_IAM = {"ReEncrypt": ("ReEncryptFrom", "ReEncryptTo")}
_IAM_ONLY = {"SynchronizeMultiRegionKey"}


def _operations() -> set[str]:
    model = botocore.session.get_session().get_service_model("kms")
    return set(model.operation_names)


def test_every_kms_api_operation_has_its_action_in_the_catalogue() -> None:
    expected = {f"kms:{a}" for op in _operations() for a in _API_TO_IAM.get(op, (op,))}
    missing = expected - {a.name for a in kms.CATALOGUE}
    assert not missing, f"add to remediator/policy/actions.py: {sorted(missing)}"


def test_every_catalogued_action_is_a_kms_api_operation_or_iam_only() -> None:
    operations = _operations()
    known = {a for op in operations for a in _API_TO_IAM.get(op, (op,))} | _IAM_ONLY
    assert {a.name.removeprefix("kms:") for a in kms.CATALOGUE} <= known


def test_ml_kem_key_operations_are_cryptographic_use_of_the_key() -> None:
    # "Required permissions: kms:Encapsulate (key policy)":
    # https://docs.aws.amazon.com/kms/latest/APIReference/API_Encapsulate.html
    for name in ("kms:Encapsulate", "kms:Decapsulate"):
        assert kms.bit(name) & kms.CRYPTO_MASK
    assert kms.expand("kms:*capsulate") == kms.bit("kms:Encapsulate") | kms.bit("kms:Decapsulate")


def test_custom_key_store_actions_are_not_actions_on_a_key() -> None:
    assert kms.bit("kms:UpdateCustomKeyStore") == 0
    assert kms.lookup("kms:UpdateCustomKeyStore") is not None
