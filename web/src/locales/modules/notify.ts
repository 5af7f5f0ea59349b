// UI texts of the 消息 (notifications) tab: zh-CN is the schema, en-US must mirror it exactly.
export const notifyZh = {
  title: '消息',
  empty: '暂无消息',
  emptyHint: '有新的待办、审批结果和提醒时会出现在这里',
  readAll: '全部已读',
  readAllDone: '已全部标为已读',
  nothingUnread: '没有未读消息',
  unreadOnly: '只看未读',
  unread: '未读',
  pulling: '下拉刷新',
  loosing: '释放刷新',
  refreshed: '已刷新',
  time: {
    justNow: '刚刚',
    minutes: '{n} 分钟前',
    hours: '{n} 小时前',
    days: '{n} 天前',
  },
}

export const notifyEn: typeof notifyZh = {
  title: 'Messages',
  empty: 'No messages',
  emptyHint: 'New tasks, approval results and reminders show up here',
  readAll: 'Mark all read',
  readAllDone: 'All marked as read',
  nothingUnread: 'No unread messages',
  unreadOnly: 'Unread only',
  unread: 'Unread',
  pulling: 'Pull to refresh',
  loosing: 'Release to refresh',
  refreshed: 'Refreshed',
  time: {
    justNow: 'just now',
    minutes: '{n} min ago',
    hours: '{n} h ago',
    days: '{n} d ago',
  },
}
