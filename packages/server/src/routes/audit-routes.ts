import { TesseraError } from '@tessera/core';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AuditLog } from '../audit/audit-log.js';
import type { AcsRoute } from '../http/route.js';
import type { AuditRecord } from '../store/store.js';

/** Most audit entries one request returns. */
export const MAX_AUDIT_PAGE = 1000;

function auditBody(r: AuditRecord): Record<string, unknown> {
  const out: Record<string, unknown> = {
    seq: r.seq,
    at: new Date(r.at).toISOString(),
    actor: r.actor,
    operation: r.operation,
    outcome: r.outcome,
    status: r.status,
    requestId: r.requestId,
  };
  if (r.identityId !== undefined) out.identityId = r.identityId;
  if (r.code !== undefined) out.code = r.code;
  if (r.detail !== undefined) out.detail = r.detail;
  return out;
}

function queryString(request: FastifyRequest, name: string): string | undefined {
  const value = (request.query as Record<string, unknown>)[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Parses `since`: Unix milliseconds or an ISO-8601 date. */
export function parseSince(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = /^\d{1,15}$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(ms)) {
    throw new TesseraError('ERR_VALIDATION', 'Since: must be Unix milliseconds or an ISO-8601 date.', {
      target: 'since',
    });
  }
  return ms;
}

function parseCount(value: string | undefined, name: string, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  if (!/^\d{1,15}$/.test(value) || Number(value) < 1 || Number(value) > max) {
    throw new TesseraError('ERR_VALIDATION', `${name}: must be a whole number in [1, ${max}].`, {
      target: name.toLowerCase(),
    });
  }
  return Number(value);
}

/** `GET /admin/audit`: the audit log a page at a time (`nextBefore` continues). */
export function registerAuditRoutes(app: FastifyInstance, acs: AcsRoute, audit: AuditLog): void {
  app.get(
    '/admin/audit',
    acs({ operation: 'admin.audit.list', apiVersion: 'optional', action: 'audit/read' }, async (request) => {
      const limit = parseCount(queryString(request, 'limit'), 'Limit', 100, MAX_AUDIT_PAGE);
      const before = queryString(request, 'before');
      const records = await audit.list({
        identityId: queryString(request, 'identity'),
        since: parseSince(queryString(request, 'since')),
        beforeSeq: before === undefined ? undefined : parseCount(before, 'Before', 1, Number.MAX_SAFE_INTEGER),
        limit,
      });
      const last = records.at(-1);
      return {
        value: records.map(auditBody),
        ...(records.length === limit && last !== undefined ? { nextBefore: last.seq } : {}),
      };
    }),
  );
}
