from registry.choices import PromotionState, Stage
from registry.models import CardRevision, ModelVersion, PromotionRequest, RegisteredModel


def test_the_demo_has_every_stage_cards_from_empty_to_complete_and_one_pending_promotion(demo):
    assert set(ModelVersion.objects.values_list("stage", flat=True)) == set(Stage.values)
    percents = sorted(model.card_completeness()[0] for model in RegisteredModel.objects.all())
    assert percents[0] < 40 and percents[-1] == 100
    assert PromotionRequest.objects.filter(state=PromotionState.PENDING).count() == 1
    assert CardRevision.objects.count() == RegisteredModel.objects.count()
