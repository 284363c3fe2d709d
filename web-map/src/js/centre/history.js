// One line of a case's history in the page's language, from the structured entry the server sends
// (`GET /api/incidents/{id}`): who acted (`actor_name`, else the system or the role), what they did and
// to whom (`detail.to_name`, `detail.from_name`, the routing decision's `worker_name`), the level an
// escalation reached, the deadline an extension set and, for supervision, the deadline the case has
// been overdue since. No stored sentence is shown: the server stores none.

/**
 * @param {object} entry  a history entry
 * @param {object} options
 * @param {Function} options.t  the page's translator
 * @param {Array<object>} options.workers  every worker, for names the entry does not carry
 * @param {(iso: string) => string} options.formatTime  an instant in the deployment's zone
 */
export function historyLine(entry, { t, workers, formatTime }) {
  const detail = entry.detail || {};
  const worker = (id, name) => {
    if (id === null || id === undefined) return t('unassigned');
    return name || workers.find((w) => w.id === id)?.name || t('worker.n', { id });
  };
  const actor = entry.actor_name
    || (entry.actor_kind === 'system' ? t('history.system') : t(`role.${entry.actor?.role}`));
  let what;
  switch (entry.action) {
    case 'register':
      what = detail.route?.worker != null
        ? t('history.register_routed', { to: worker(detail.route.worker, detail.route.worker_name) })
        : t('action.register');
      break;
    case 'dispatch':
      what = t(detail.automatic ? 'history.dispatch_auto' : 'history.dispatch', { to: worker(detail.to, detail.to_name) });
      break;
    case 'reassign':
      what = t('history.reassign', { from: worker(detail.from, detail.from_name), to: worker(detail.to, detail.to_name) });
      break;
    case 'reopen':
      what = detail.to != null ? t('history.reopen', { to: worker(detail.to, detail.to_name) }) : t('action.reopen');
      break;
    case 'escalate':
      what = detail.automatic && detail.overdue_since
        ? t('history.escalate_auto', { level: t(`level.${detail.level}`), since: formatTime(detail.overdue_since) })
        : t('history.escalate', { level: t(`level.${detail.level}`) });
      break;
    case 'extend':
      what = t('history.extend', { until: formatTime(detail.until) });
      break;
    case 'merge':
      what = t('history.merge', { into: detail.into });
      break;
    case 'verify':
      what = t(detail.passed === false ? 'history.verify_failed' : 'history.verify_passed');
      break;
    default:
      what = t(`action.${entry.action}`);
  }
  const parts = [formatTime(entry.at), actor, what];
  if (entry.from !== entry.to) parts.push(`${t(`status.${entry.from}`)} → ${t(`status.${entry.to}`)}`);
  return parts.join(' · ');
}
