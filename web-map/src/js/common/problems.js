// A problem+json answer (`Problem` in common/api.js) said in the page's language. The server gives each
// refusal a stable `code` (one per domain error) and its values as members (`action`, `field`, `max`…);
// the sentence is made here from a zh-CN and an English table keyed by that code, else by the `type`
// slug, else a generic sentence with the status. The server's `detail` is English: it is shown only on
// the English page and only when no table knows the problem, and never in zh-CN.

const WORDS = {
  en: {
    action: {
      dispatch: 'dispatch', reassign: 'reassign', accept: 'accept', send_back: 'send back', start: 'start',
      resolve: 'resolve', verify: 'verify', extend: 'extend', defer: 'defer', resume: 'resume',
      escalate: 'escalate', reopen: 'reopen', merge: 'merge', cancel: 'cancel',
    },
    status: {
      registered: 'registered', dispatched: 'dispatched', accepted: 'accepted', in_progress: 'in progress',
      resolved: 'resolved', closed: 'closed', deferred: 'deferred', cancelled: 'cancelled', merged: 'merged',
    },
    role: {
      admin: 'an administrator', planner: 'a planner', commander: 'a command centre', worker: 'a grid worker',
      reporter: 'a reporter', device: 'a device', auditor: 'an auditor',
    },
    field: {
      reason: 'reason', until: 'new deadline', into: 'case to merge into', to: 'worker', category: 'category',
      description: 'description', photo: 'photo', lat: 'latitude', lon: 'longitude', name: 'name', code: 'code',
      label: 'label', scopes: 'scopes', grids: 'grids', display_name: 'display name',
    },
  },
  'zh-CN': {
    action: {
      dispatch: '派遣', reassign: '改派', accept: '接收', send_back: '退回', start: '开始处置', resolve: '处理反馈',
      verify: '核实', extend: '延期', defer: '缓办', resume: '恢复办理', escalate: '上报', reopen: '重新办理',
      merge: '合并', cancel: '作废',
    },
    status: {
      registered: '已登记', dispatched: '已派遣', accepted: '已接收', in_progress: '处置中', resolved: '待核查',
      closed: '已结案', deferred: '已暂缓', cancelled: '已作废', merged: '已合并',
    },
    role: {
      admin: '管理员', planner: '规划人员', commander: '指挥中心', worker: '网格员', reporter: '上报人',
      device: '设备', auditor: '审计员',
    },
    field: {
      reason: '理由', until: '新期限', into: '合并目标案件', to: '人员', category: '类别', description: '描述',
      photo: '照片', lat: '纬度', lon: '经度', name: '名称', code: '编码', label: '标签', scopes: '范围',
      grids: '网格', display_name: '显示名',
    },
  },
};

/** Sentences by `code`; `{name}` is the member `name`, said in the page's words where it is one. */
const BY_CODE = {
  en: {
    illegal_transition: 'A {current_state} case cannot be given “{action}”.',
    action_not_allowed: '{role} may not {action} this case.',
    self_verification: 'The worker who handled a case may not verify it.',
    already_at_top: 'The case is already at district level and cannot be escalated further.',
    reason_required: 'To {action}, give a reason.',
    reason_too_long: 'The reason is {chars} characters; at most {max} are allowed.',
    invalid_deadline: 'The new deadline must be later than now and than the current deadline.',
    merge_into_self: 'A case cannot be merged into itself.',
    description_too_long: 'The description is {chars} characters; at most {max} are allowed.',
    no_city: 'No city has been imported yet.',
    deadline_out_of_range: 'The deadline is out of range.',
    unknown_category: 'Unknown category “{value}”.',
    retired_category: 'The category “{value}” is no longer in use.',
    outside_managed_area: 'The place is {distance_m} m outside every grid; at most {max_m} m is accepted.',
    shutting_down: 'The server is restarting; nothing was stored. Try again shortly.',
    stale: 'The case changed meanwhile; look again.',
    unknown_worker: 'There is no worker {value}.',
    unknown_merge_target: 'There is no case {value} to merge into.',
    merge_target_closed: 'Case {into} is {current_state}; merge into a case still being worked.',
    photo_empty: 'The photo is empty.',
    photo_too_large: 'The photo is too large (at most {max} bytes).',
    not_an_image: 'A photo must be a JPEG, PNG or WebP image.',
    case_closed: 'The case is {current_state}; photos go on open cases.',
    photo_already_attached: 'The case already has this photo.',
    case_full: 'The case already has {max} photos, the most it may carry.',
    no_thumbnail: 'This photo has no thumbnail.',
    unknown_photo: 'There is no such photo.',
    photo_out_of_scope: 'This photo is on no case in your area.',
    invalid_photo_name: 'That is not the name of a photo.',
    invalid_latitude: 'The latitude is not a number between -90 and 90.',
    invalid_longitude: 'The longitude is not a number between -180 and 180.',
    malformed_json: 'The request could not be read.',
    invalid_json_data: 'A value in the request has the wrong form.',
    json_content_type_required: 'The request must be sent as JSON.',
    body_too_large: 'The request is too large.',
    unreadable_body: 'The request could not be read.',
    invalid_query: 'The search parameters are not valid.',
    already_on_patrol: 'A patrol is already under way.',
    patrol_already_ended: 'The patrol has already ended.',
    already_acknowledged: 'Someone else acknowledged this alarm first.',
    too_many_positions: 'Too many positions in one batch.',
    no_positions: 'No positions were sent.',
    positions_refused: 'Some positions were refused.',
    writer_stopped: 'The server is restarting; send them again shortly.',
    store_refused: 'The positions were not stored; send them again.',
    store_full: 'The server’s storage is full; try again later.',
  },
  'zh-CN': {
    illegal_transition: '案件当前为“{current_state}”，不能{action}。',
    action_not_allowed: '{role}不能对此案件{action}。',
    self_verification: '处置人不能核实自己处置的案件。',
    already_at_top: '案件已在区级，不能再上报。',
    reason_required: '{action}需要填写理由。',
    reason_too_long: '理由为 {chars} 字，最多 {max} 字。',
    invalid_deadline: '新期限须晚于现在和原期限。',
    merge_into_self: '案件不能合并到自身。',
    description_too_long: '描述为 {chars} 字，最多 {max} 字。',
    no_city: '尚未导入城市数据。',
    deadline_out_of_range: '期限超出可表示的范围。',
    unknown_category: '没有这个案件类别：{value}。',
    retired_category: '类别 {value} 已停用。',
    outside_managed_area: '位置在所有网格之外 {distance_m} 米，最多接受 {max_m} 米。',
    shutting_down: '服务器正在重启，未保存，请稍后重试。',
    stale: '案件已被他人更新，请刷新后再试。',
    unknown_worker: '没有编号为 {value} 的人员。',
    unknown_merge_target: '没有编号为 {value} 的案件可合并。',
    merge_target_closed: '案件 {into} 为“{current_state}”，只能合并到仍在办理的案件。',
    photo_empty: '照片为空。',
    photo_too_large: '照片过大（最多 {max} 字节）。',
    not_an_image: '照片须为 JPEG、PNG 或 WebP 图片。',
    case_closed: '案件为“{current_state}”，只能给未办结的案件添加照片。',
    photo_already_attached: '案件已有这张照片。',
    case_full: '案件照片已达上限（{max} 张）。',
    no_thumbnail: '这张照片没有缩略图。',
    unknown_photo: '没有这张照片。',
    photo_out_of_scope: '这张照片不在您辖区的案件上。',
    invalid_photo_name: '照片名称无效。',
    invalid_latitude: '纬度须为 -90 到 90 之间的数字。',
    invalid_longitude: '经度须为 -180 到 180 之间的数字。',
    malformed_json: '请求无法解析。',
    invalid_json_data: '请求中的某个值格式不对。',
    json_content_type_required: '请求须以 JSON 格式发送。',
    body_too_large: '请求内容过大。',
    unreadable_body: '请求无法读取。',
    invalid_query: '查询参数无效。',
    already_on_patrol: '已有正在进行的巡查。',
    patrol_already_ended: '巡查已结束。',
    already_acknowledged: '该告警已被他人确认。',
    too_many_positions: '一次上报的位置过多。',
    no_positions: '没有上报位置。',
    positions_refused: '部分位置未被接受。',
    writer_stopped: '服务器正在重启，请稍后重新上报。',
    store_refused: '位置未保存，请重新上报。',
    store_full: '服务器存储已满，请稍后再试。',
  },
};

/** Sentences by the `type` slug, for problems with no `code`. */
const BY_TYPE = {
  en: {
    'not-found': 'It does not exist (any more).',
    forbidden: 'You may not do this here.',
    unauthorized: 'Your session has ended: sign in again.',
    conflict: 'It was changed meanwhile; look again.',
    'invalid-input': 'A value is not valid.',
    'rate-limited': 'Too many requests; wait a moment.',
    unavailable: 'The server cannot take this now; try again shortly.',
    'store-unavailable': 'The database cannot be reached; try again shortly.',
    'insufficient-storage': 'The server’s storage is full; try again later.',
    'request-timeout': 'The request took too long.',
    internal: 'The server failed; the administrators can see why in its log.',
    offline: 'No connection to the server.',
  },
  'zh-CN': {
    'not-found': '对象不存在（或已删除）。',
    forbidden: '您无权进行此操作。',
    unauthorized: '会话已结束，请重新登录。',
    conflict: '内容已被更新，请刷新后再试。',
    'invalid-input': '输入的值无效。',
    'rate-limited': '请求过于频繁，请稍候。',
    unavailable: '服务器暂时无法处理，请稍后重试。',
    'store-unavailable': '数据库暂时无法连接，请稍后重试。',
    'insufficient-storage': '服务器存储已满，请稍后再试。',
    'request-timeout': '请求超时。',
    internal: '服务器出错，管理员可在日志中查看原因。',
    offline: '无法连接服务器。',
  },
};

const GENERIC = {
  en: 'The request was refused ({status}).',
  'zh-CN': '请求未能完成（{status}）。',
};

/** The page's word for a member's value: an action, a status, a role or a field name where it is one. */
function word(lang, name, value) {
  const words = WORDS[lang] || WORDS.en;
  const table = { action: words.action, current_state: words.status, role: words.role, field: words.field }[name];
  return table?.[value] ?? value;
}

function fill(template, lang, body) {
  return template.replace(/\{(\w+)\}/g, (_, name) => {
    const value = body?.[name];
    return value === undefined || value === null ? '' : String(word(lang, name, value));
  });
}

/** The problem's `type` slug: `/problems/reason-required` → `reason-required`. */
function slugOf(problem) {
  const type = problem?.type || problem?.body?.type || '';
  return type.startsWith('/problems/') ? type.slice('/problems/'.length) : '';
}

/**
 * What to tell the person about `problem` (a `Problem`, or any error), in `lang`: one sentence from
 * its `code`, else its `type`, else a generic one. In English, a problem neither table knows shows the
 * server's `detail`; in zh-CN it never does.
 */
export function problemText(problem, lang) {
  const zh = lang === 'zh-CN';
  const table = zh ? 'zh-CN' : 'en';
  const body = problem?.body || {};
  if (problem?.offline) return BY_TYPE[table].offline;
  const code = body.code;
  if (code && BY_CODE[table][code]) return fill(BY_CODE[table][code], table, body);
  // In English the server's own sentence says more than a slug's; in zh-CN it is never shown.
  if (!zh && problem?.detail) return problem.detail;
  const slug = slugOf(problem);
  if (slug && BY_TYPE[table][slug]) return BY_TYPE[table][slug];
  if (!zh && problem?.message && !(problem?.status > 0)) return problem.message;
  return fill(GENERIC[table], table, { status: problem?.status || '—' });
}

/** Every action named in `allowed` (a 409's `allowed_actions`), in the page's words. */
export function actionWords(allowed, lang) {
  return (allowed || []).map((a) => word(lang === 'zh-CN' ? 'zh-CN' : 'en', 'action', a));
}
