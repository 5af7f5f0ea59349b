// UI texts of the contracts feature: zh-CN is the schema, en-US must mirror it exactly.
export const contractsZh = {
  templates: {
    title: '合同模板',
  },
}

export const contractsEn: typeof contractsZh = {
  templates: {
    title: 'Contract templates',
  },
}
