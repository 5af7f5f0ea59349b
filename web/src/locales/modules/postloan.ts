// UI texts of the post-loan feature: zh-CN is the schema, en-US must mirror it exactly.
export const postloanZh = {
  cob: {
    title: '日终批处理',
  },
}

export const postloanEn: typeof postloanZh = {
  cob: {
    title: 'Close of business',
  },
}
