// UI texts of the flows feature: zh-CN is the schema, en-US must mirror it exactly.
export const flowsZh = {
  analytics: {
    title: '流程分析',
  },
}

export const flowsEn: typeof flowsZh = {
  analytics: {
    title: 'Process analytics',
  },
}
