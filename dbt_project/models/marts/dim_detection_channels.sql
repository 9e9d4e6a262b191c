{#- How a case came to light (contract labels of `Nguồn phát hiện`); inspection
    and internal check count as self-detection. Seed: detection_channels. -#}
with

channels as (
    select * from {{ ref('detection_channels') }}
),

final as (
    select
        channel_code,
        label_vi,
        name_en,
        is_self_detection,
        sort_order
    from channels
)

select * from final
