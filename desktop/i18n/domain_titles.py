"""中文: the titles of the 24 default domains (resources/domains.yaml), by domain name.

Keyed by name, not by the English title: a project keeps its own copy of the titles, and a
title a person changed is theirs, shown as typed (desktop.strings.domain_title compares it
with the bundled English title first)."""

ZH_DOMAIN_TITLES = {
    "image_style": "图像风格",
    "image_scene": "场景",
    "image_emotion": "情绪与氛围",
    "image_quality": "图像质量",
    "object_localization": "物体定位",
    "attribute_recognition": "属性识别",
    "celebrity_recognition": "知名人物",
    "ocr": "图中文字（OCR）",
    "object_relation": "物体关系",
    "image_comparison": "图像比较",
    "structuralized_imagetext_understanding": "图表、表格与文档",
    "commonsense_reasoning": "常识推理",
    "complex_reasoning": "复杂推理",
    "social_relation": "社会关系",
    "future_prediction": "接下来会发生什么",
    "artwork": "艺术作品",
    "landmark": "地标",
    "numerical_calculation": "计数与算术",
    "spatial_relationship": "空间关系",
    "posters": "海报",
    "meme_comprehension": "表情包",
    "writing": "创意写作",
    "brand_recognition": "品牌与标志",
    "species_recognition": "动物与植物",
}
