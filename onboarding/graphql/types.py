import graphene


class StageCountType(graphene.ObjectType):
    stage = graphene.String(required=True)
    label = graphene.String(required=True)
    count = graphene.Int(required=True)


class ProvinceStageCountsType(graphene.ObjectType):
    province_code = graphene.String(required=True)
    province_name = graphene.String(required=True)
    total = graphene.Int(required=True)
    launched = graphene.Int(required=True)
    stages = graphene.List(graphene.NonNull(StageCountType), required=True)


class OnboardingStatusType(graphene.ObjectType):
    region_code = graphene.String(required=True)
    name = graphene.String(required=True)
    province_code = graphene.String(required=True)
    stage = graphene.String(required=True)
    stage_label = graphene.String(required=True)
    stage_entered_at = graphene.DateTime()
    days_in_stage = graphene.Int()
    stalled = graphene.Boolean(required=True)
    launched_on = graphene.Date()
    launch_ordinal = graphene.Int()
    version = graphene.Int(required=True)
    missing = graphene.List(
        graphene.NonNull(graphene.String),
        required=True,
        description="What must be recorded before the next stage.",
    )


class TimelineEntryType(graphene.ObjectType):
    at = graphene.DateTime(required=True)
    kind = graphene.String(required=True)
    from_stage = graphene.String(required=True)
    to_stage = graphene.String(required=True)
    actor = graphene.String()
    note = graphene.String(required=True)
