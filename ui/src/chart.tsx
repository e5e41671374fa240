import { useEffect, useRef } from 'preact/hooks'
import uPlot from 'uplot'

const COLORS = ['#2563eb', '#f59e0b', '#dc2626', '#059669']

/** A uPlot time series: `data[0]` the times (unix seconds), then one array per series. */
export function Chart(props: {
  title: string
  series: string[]
  data: Array<Array<number | null>>
  unit?: string
}) {
  const box = useRef<HTMLDivElement>(null)
  const plot = useRef<uPlot | null>(null)
  const key = props.series.join(',')
  useEffect(() => {
    if (box.current === null) return
    const opts: uPlot.Options = {
      width: Math.max(300, box.current.clientWidth),
      height: 180,
      series: [
        {},
        ...props.series.map((label, i) => ({
          label,
          stroke: COLORS[i % COLORS.length]!,
          width: 2,
          // a lone bucket (the first minute of traffic) is a point, not an invisible segment
          points: { show: true, size: 5 },
          value: (_u: uPlot, v: number | null) => (v === null ? '–' : `${v}${props.unit ?? ''}`),
        })),
      ],
      axes: [{}, { size: 60 }],
    }
    plot.current = new uPlot(opts, props.data as uPlot.AlignedData, box.current)
    return () => {
      plot.current?.destroy()
      plot.current = null
    }
  }, [key])
  useEffect(() => {
    plot.current?.setData(props.data as uPlot.AlignedData)
  }, [props.data])
  return (
    <div class="chart">
      <h4>{props.title}</h4>
      <div ref={box} />
    </div>
  )
}
