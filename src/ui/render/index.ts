import type { ChalkInstance } from '../color.js';
import { renderJunit } from './junit.js';
import { renderData } from '../output.js';
import type { CheckOutputFormat } from '../../checks/options.js';
import type { CheckReport } from '../../checks/report.js';
import { renderSarif } from './sarif.js';
import { CheckTableStream, renderTable } from './table.js';

export { CheckTableStream, renderJunit, renderSarif, renderTable };

/** Render a report in one format. json/junit/sarif are always exactly one document. */
export function renderReport(report: CheckReport, format: CheckOutputFormat, color: ChalkInstance): string {
  switch (format) {
    case 'json':
      return JSON.stringify(report, null, 2) + '\n';
    case 'yaml':
      return renderData(report, 'yaml');
    case 'junit':
      return renderJunit(report);
    case 'sarif':
      return renderSarif(report);
    default:
      return renderTable(report, color);
  }
}
