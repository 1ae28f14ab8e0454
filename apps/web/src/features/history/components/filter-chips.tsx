import { useState, type ButtonHTMLAttributes, type ReactNode, type Ref } from 'react';
import { WORKFLOWS } from '@atelier/contracts';
import { Button } from '#/components/ui/button';
import { CheckIcon, ChevronDownIcon } from '#/components/ui/icons';
import { Menu } from '#/components/ui/menu';
import { useModels } from '#/features/models/hooks/use-models';
import { DATE_PRESETS, DATE_PRESET_LABELS, WORKFLOW_LABELS, describeDate, toDayString, type HistoryFilters } from '../filters';
import { CalendarIcon, ModelIcon, StarFilledIcon, StarIcon, WorkflowIcon } from '../icons';
import { Popover } from './popover';

export type SetFilters = (patch: Partial<HistoryFilters>) => void;

interface ChipProps extends Omit<ButtonHTMLAttributes<HTMLButtonElement>, 'name'> {
  icon: ReactNode;
  label: ReactNode;
  isActive: boolean;
  /** Accessible name: what the chip filters and its current value. */
  name: string;
  ref?: Ref<HTMLButtonElement>;
}

/** A filter's button: shows its value, and turns accent-coloured while it narrows the history. */
export function ChipButton({ icon, label, isActive, name, ref, ...rest }: ChipProps) {
  return (
    <button ref={ref} type="button" className={`filter-chip${isActive ? ' filter-chip--active' : ''}`} aria-label={name} {...rest}>
      {icon}
      <span className="filter-chip__label">{label}</span>
      <ChevronDownIcon size={14} className="filter-chip__caret" />
    </button>
  );
}

const check = (on: boolean) => (on ? <CheckIcon size={15} /> : <span className="filter-menu__spacer" />);

export function FavoritesChip({ filters, setFilters }: { filters: HistoryFilters; setFilters: SetFilters }) {
  return (
    <button
      type="button"
      className={`filter-chip${filters.favorite ? ' filter-chip--active' : ''}`}
      aria-pressed={filters.favorite}
      onClick={() => setFilters({ favorite: !filters.favorite })}
    >
      {filters.favorite ? <StarFilledIcon size={15} className="filter-chip__star" /> : <StarIcon size={15} />}
      <span className="filter-chip__label">Favourites</span>
    </button>
  );
}

export function ModelChip({ filters, setFilters }: { filters: HistoryFilters; setFilters: SetFilters }) {
  const models = useModels();
  const list = models.data ?? [];
  const current = list.find((m) => m.id === filters.model);
  const label = filters.model ? (current?.label ?? filters.model) : 'Model';
  return (
    <Menu
      label="Filter by model"
      align="start"
      items={[
        { key: '', label: 'Any model', icon: check(!filters.model), onSelect: () => setFilters({ model: null }) },
        ...list.map((m) => ({ key: m.id, label: m.label, icon: check(m.id === filters.model), onSelect: () => setFilters({ model: m.id }) })),
        // A model that has since left the catalogue still has images: keep the filter visible and removable.
        ...(filters.model && !current ? [{ key: filters.model, label: filters.model, icon: check(true), onSelect: () => {} }] : []),
      ]}
      trigger={(props) => <ChipButton {...props} icon={<ModelIcon size={15} />} label={label} isActive={filters.model !== null} name={`Model: ${filters.model ? label : 'any'}`} />}
    />
  );
}

export function WorkflowChip({ filters, setFilters }: { filters: HistoryFilters; setFilters: SetFilters }) {
  const label = filters.workflow ? WORKFLOW_LABELS[filters.workflow] : 'Workflow';
  return (
    <Menu
      label="Filter by workflow"
      align="start"
      items={[
        { key: '', label: 'Any workflow', icon: check(!filters.workflow), onSelect: () => setFilters({ workflow: null }) },
        ...WORKFLOWS.map((w) => ({ key: w, label: WORKFLOW_LABELS[w], icon: check(w === filters.workflow), onSelect: () => setFilters({ workflow: w }) })),
      ]}
      trigger={(props) => <ChipButton {...props} icon={<WorkflowIcon size={15} />} label={label} isActive={filters.workflow !== null} name={`Workflow: ${filters.workflow ? label : 'any'}`} />}
    />
  );
}

export function DateChip({ filters, setFilters }: { filters: HistoryFilters; setFilters: SetFilters }) {
  const described = describeDate(filters);
  return (
    <Popover
      label="Filter by date"
      className="date-filter"
      trigger={(props) => <ChipButton {...props} icon={<CalendarIcon size={15} />} label={described ?? 'Any time'} isActive={described !== null} name={`Date: ${described ?? 'any time'}`} />}
    >
      {(close) => (
        <DateFilterPanel
          filters={filters}
          onChange={(patch) => {
            setFilters(patch);
            close();
          }}
        />
      )}
    </Popover>
  );
}

function DateFilterPanel({ filters, onChange }: { filters: HistoryFilters; onChange: SetFilters }) {
  const today = toDayString(new Date());
  const [from, setFrom] = useState(filters.from ?? '');
  const [to, setTo] = useState(filters.to ?? '');
  const isCustom = filters.from !== null || filters.to !== null;
  const isInvalid = from !== '' && to !== '' && from > to;
  return (
    <div className="date-filter__body">
      <div className="date-filter__presets" role="group" aria-label="Presets">
        <button type="button" className="filter-option" aria-pressed={!filters.date && !isCustom} onClick={() => onChange({ date: null, from: null, to: null })}>
          {check(!filters.date && !isCustom)} Any time
        </button>
        {DATE_PRESETS.map((preset) => (
          <button key={preset} type="button" className="filter-option" aria-pressed={filters.date === preset} onClick={() => onChange({ date: preset, from: null, to: null })}>
            {check(filters.date === preset)} {DATE_PRESET_LABELS[preset]}
          </button>
        ))}
      </div>
      <form
        className="date-filter__custom"
        aria-label="Custom range"
        onSubmit={(event) => {
          event.preventDefault();
          if (isInvalid || (!from && !to)) return;
          onChange({ date: null, from: from || null, to: to || null });
        }}
      >
        <p className="date-filter__title">Custom range</p>
        <div className="date-filter__inputs">
          <label className="date-filter__field">
            <span>From</span>
            <input type="date" className="input" value={from} max={to || today} onChange={(event) => setFrom(event.target.value)} />
          </label>
          <label className="date-filter__field">
            <span>To</span>
            <input type="date" className="input" value={to} min={from || undefined} max={today} onChange={(event) => setTo(event.target.value)} />
          </label>
        </div>
        {isInvalid && <p className="field__error">“From” must be on or before “To”.</p>}
        <Button type="submit" size="sm" variant="primary" disabled={isInvalid || (!from && !to)}>
          Apply range
        </Button>
      </form>
    </div>
  );
}
