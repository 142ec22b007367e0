"""The words of the demo year: what people reported, what units did about it (invented, plausible)."""
from __future__ import annotations

#: 群众反映治安问题 by category: (description, what the handling unit did, result).
PROBLEMS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "theft_robbery": (
        ("{place}近期接连发生电动车被盗", "调取周边监控，夜间增加巡逻频次", "抓获盗窃嫌疑人1名，追回电动车2辆"),
        ("{place}夜间有人撬门入室盗窃", "现场勘查，走访周边住户，指导安装防盗门锁", "案件已立案侦查，周边加强巡防"),
        ("{place}农户存放的电缆、农机具被盗", "排查废品收购点，登记收购台账", "查获销赃点1处，责令废品收购点规范经营"),
    ),
    "porn_gambling_drugs": (
        ("{place}有人在民房内聚众赌博，夜间人员进出频繁", "组织突击检查，依法查处赌博人员", "查处赌博人员6名，收缴赌资"),
        ("{place}棋牌室疑似以打牌为名赌博", "会同市场监管部门检查棋牌室经营", "责令棋牌室停业整顿，负责人写出保证书"),
    ),
    "public_order_chaos": (
        ("{place}夜间有人酒后滋事、打架斗殴", "加强夜间巡逻，对滋事人员训诫教育", "处理滋事人员3名，夜间秩序好转"),
        ("{place}路边摊点占道经营，秩序混乱", "会同城管部门规范摊点经营区域和时间", "摊点已规范入市经营"),
        ("{place}有人强行拉客、揽客，群众反映强烈", "开展专项整治，查处违规营运车辆", "查处违规营运车辆4辆"),
    ),
    "safety_hazard": (
        ("{place}废弃厂房无人看管，常有社会闲散人员出入", "督促产权单位封堵出入口，设置警示标志", "出入口已封堵，纳入日常巡查"),
        ("{place}路灯损坏多日，夜间行人不安全", "协调有关部门维修路灯", "路灯已修复"),
    ),
    "campus_surroundings": (
        ("{place}学校门口放学时段有社会青年聚集", "上下学时段安排护学岗，对聚集人员劝离", "护学岗已常态化，未再发现聚集"),
    ),
    "rental_floating_population": (
        ("{place}出租屋人员流动频繁，租住人员未登记", "入户登记流动人口，督促房东落实登记责任", "登记流动人口23人，签订治安责任书"),
    ),
    "gang_clue": (
        ("{place}有人强揽工程、阻挠施工", "调查核实，固定证据", "已移交刑侦部门深挖线索"),
    ),
}
CATEGORY_WEIGHTS = (("theft_robbery", 34), ("public_order_chaos", 26), ("porn_gambling_drugs", 12),
                    ("safety_hazard", 12), ("rental_floating_population", 9), ("campus_surroundings", 5),
                    ("gang_clue", 2))
#: Categories the routing rule does not send to a 派出所: the county department in charge.
DEPARTMENT_FOR = {"safety_hazard": "YJ", "campus_surroundings": "JY"}
SOURCES = (("phone", 40), ("grid_worker", 22), ("department_inspection", 9), ("higher_assigned", 6), ("media", 3))

#: 治安信息员报送 by info category: content templates.
OFFICER_REPORTS: dict[str, tuple[str, ...]] = {
    "crime_clue": ("{place}有陌生人夜间开车转悠，疑似踩点盗窃", "{place}有人低价收购来路不明的电动车",
                   "{place}有人在民房内组织赌博"),
    "security_hazard": ("{place}一处民房私拉电线，存在火灾隐患", "{place}废弃机井未封口，易发生意外",
                        "{place}集市日车辆乱停，堵塞消防通道"),
    "dispute": ("{place}两户村民因宅基地边界发生争吵，有激化苗头", "{place}务工人员与包工头因工资发生纠纷"),
    "key_person": ("{place}一名社区矫正人员近期行踪异常", "{place}有精神障碍患者近期情绪不稳定"),
    "instability": ("{place}部分群众因征地补偿问题酝酿集体上访",),
    "other": ("{place}路口信号灯损坏，早晚高峰秩序混乱",),
}
OFFICER_WEIGHTS = (("crime_clue", 30), ("security_hazard", 25), ("dispute", 25), ("key_person", 8), ("instability", 5),
                   ("other", 7))

SURVEY_GROUPS = ("residents", "residents", "residents", "business", "info_officer", "victim", "npc_deputy", "school")
ITEMS = ("security_change", "measures", "salient_problems", "patrol", "disputes", "overall")


def weighted(rng, pairs):  # type: ignore[no-untyped-def]
    """A choice from ``((value, weight), ...)``."""
    total = sum(w for _, w in pairs)
    pick = rng.random() * total
    for value, weight in pairs:
        pick -= weight
        if pick < 0:
            return value
    return pairs[-1][0]
