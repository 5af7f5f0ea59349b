// UI texts of the risk feature: zh-CN is the schema, en-US must mirror it exactly.
export const riskZh = {
  scorecards: {
    title: '风险评分卡',
  },
}

export const riskEn: typeof riskZh = {
  scorecards: {
    title: 'Risk scorecards',
  },
}
