// UI texts of the flow designer: zh-CN is the schema, en-US must mirror it exactly.
export const flowDesignerZh = {
  title: '审批流程设计',
}

export const flowDesignerEn: typeof flowDesignerZh = {
  title: 'Approval flow designer',
}
